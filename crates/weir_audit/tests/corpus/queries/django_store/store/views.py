"""Storefront and back-office views."""
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.decorators.http import require_POST

from store import services
from store.models import Category, Customer, Order, Product, Tag


@login_required
def order_list(request):
    orders = Order.objects.filter(customer__user=request.user).order_by("-created_at")  # expect: QE-09
    return JsonResponse({"orders": [{"number": o.number, "status": o.status, "total": str(o.total)} for o in orders]})


@login_required
def order_page(request):
    queryset = Order.objects.filter(customer__user=request.user).order_by("-created_at")  # ok: QE-09
    page = Paginator(queryset, 20).get_page(request.GET.get("page"))  # ok: QE-09
    return JsonResponse({"orders": [o.number for o in page.object_list], "pages": page.paginator.num_pages})


@staff_member_required
def recent_orders(request):
    orders = Order.objects.filter(status="paid").order_by("-paid_at")[:50]  # ok: QE-09
    rows = []
    for order in orders:
        rows.append(
            {
                "number": order.number,
                "customer": order.customer.email,  # expect: QE-07
                "items": order.items.count(),  # expect: QE-07
            }
        )
    return JsonResponse({"orders": rows})


@staff_member_required
def recent_orders_fast(request):
    orders = Order.objects.filter(status="paid").select_related("customer").annotate(item_count=Count("items")).order_by("-paid_at")[:50]  # ok: QE-09
    rows = [{"number": o.number, "customer": o.customer.email, "items": o.item_count} for o in orders]  # ok: QE-07
    return JsonResponse({"orders": rows})


def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)  # ok: QE-09
    products = Product.objects.filter(category=category, active=True).order_by("name")  # expect: QE-09
    data = [{"name": p.name, "price": str(p.price), "tags": [t.label for t in p.tags.all()]} for p in products]  # expect: QE-07
    return JsonResponse({"category": category.name, "products": data})


def category_page(request, slug):
    category = get_object_or_404(Category, slug=slug)  # ok: QE-09
    tags = Prefetch("tags", queryset=Tag.objects.order_by("label"))
    queryset = Product.objects.filter(category=category, active=True).prefetch_related(tags).order_by("name")  # ok: QE-09
    page = Paginator(queryset, 24).get_page(request.GET.get("page"))  # ok: QE-09
    data = [{"name": p.name, "tags": [t.label for t in p.tags.all()]} for p in page.object_list]  # ok: QE-07
    return JsonResponse({"category": category.name, "products": data, "pages": page.paginator.num_pages})


@login_required
def cart(request):
    customer_id = request.user.customer.id
    lines = []
    for product_id, quantity in request.session.get("cart", {}).items():
        price = services.price_for(customer_id, int(product_id))  # expect: QE-07
        lines.append({"product": int(product_id), "quantity": quantity, "price": str(price)})
    return JsonResponse({"lines": lines})


@login_required
def cart_batched(request):
    items = {int(k): v for k, v in request.session.get("cart", {}).items()}
    prices = services.prices_for(request.user.customer.id, list(items))  # ok: QE-07
    lines = [{"product": pid, "quantity": qty, "price": str(prices[pid])} for pid, qty in items.items()]  # ok: QE-07
    return JsonResponse({"lines": lines})


@require_POST
@login_required
def cancel(request, order_id):
    order = Order.objects.get(pk=order_id, customer__user=request.user)  # ok: QE-01, QE-09
    if order.status != "pending":
        return JsonResponse({"error": "only pending orders can be cancelled"}, status=409)
    services.cancel_order(order.id)  # expect: QE-01
    return JsonResponse({"cancelled": order.number})


@require_POST
@login_required
def reorder(request, order_id):
    order = get_object_or_404(Order, pk=order_id, customer__user=request.user)  # ok: QE-01, QE-09
    copy = services.reorder(order)  # ok: QE-01
    return JsonResponse({"number": copy.number}, status=201)


@require_POST
@staff_member_required
def mark_shipped(request):
    ids = [int(x) for x in request.POST.getlist("order")]
    for order_id in ids:
        Order.objects.filter(pk=order_id, status="paid").update(status="shipped")  # expect: QE-02
    return JsonResponse({"shipped": len(ids)})


@require_POST
@staff_member_required
def mark_shipped_bulk(request):
    ids = [int(x) for x in request.POST.getlist("order")]
    shipped = Order.objects.filter(pk__in=ids, status="paid").update(status="shipped")  # ok: QE-02
    return JsonResponse({"shipped": shipped})


@staff_member_required
def customer_directory(request):
    customers = Customer.objects.filter(is_active=True).order_by("last_name", "first_name")  # expect: QE-04, QE-09
    return JsonResponse({"customers": [{"id": c.id, "email": c.email} for c in customers]})


@staff_member_required
def customer_lookup(request):
    q = request.GET.get("q", "")
    rows = Customer.objects.filter(email__icontains=q).values("id", "email", "first_name", "last_name")[:20]  # ok: QE-04, QE-09
    return JsonResponse({"results": list(rows)})


@staff_member_required
def newsletter_export(request):
    emails = Customer.objects.filter(marketing_opt_in=True, is_active=True).values_list("email", flat=True)  # expect: QE-09 ok: QE-04
    return JsonResponse({"emails": list(emails)})


@staff_member_required
def loyalty_leaders(request):
    leaders = Customer.objects.filter(is_active=True).order_by("-loyalty_points")[:20]  # expect: QE-04 ok: QE-09
    return JsonResponse({"leaders": [{"email": c.email, "points": c.loyalty_points} for c in leaders]})


class CustomerCardView(View):
    def get(self, request, pk):
        customer = Customer.objects.get(pk=pk)  # ok: QE-04, QE-09
        return JsonResponse(
            {
                "email": customer.email,
                "name": f"{customer.first_name} {customer.last_name}",
                "company": customer.company,
                "city": customer.city,
                "country": customer.country,
                "points": customer.loyalty_points,
            }
        )


class ProductSearchView(View):
    def get(self, request):
        q = request.GET.get("q", "").strip()
        products = Product.objects.filter(name__icontains=q, active=True).select_related("category")  # expect: QE-09
        return JsonResponse({"results": [{"name": p.name, "category": p.category.name} for p in products]})  # ok: QE-07
