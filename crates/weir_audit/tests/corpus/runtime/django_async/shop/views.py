"""Storefront views (Django 5, served over ASGI)."""
import asyncio
import time

from asgiref.sync import sync_to_async
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse

from shop import services
from shop.images import image_size, make_thumbnail
from shop.models import Order, Product


def _as_dict(product: Product) -> dict:
    return {"sku": product.sku, "name": product.name, "price": str(product.price)}


async def product_detail(request: HttpRequest, sku: str) -> JsonResponse:
    product = await Product.objects.aget(sku=sku)  # ok: RT-01
    return JsonResponse(_as_dict(product))  # ok: RT-01


async def product_detail_legacy(request: HttpRequest, sku: str) -> JsonResponse:
    product = Product.objects.get(sku=sku)  # expect: RT-01
    return JsonResponse(_as_dict(product))


async def product_list(request: HttpRequest) -> JsonResponse:
    products = Product.objects.filter(active=True).order_by("name")  # ok: RT-01
    items = [_as_dict(p) async for p in products[:50]]  # ok: RT-01
    return JsonResponse({"items": items, "total": await products.acount()})  # ok: RT-01


async def stock_summary(request: HttpRequest) -> JsonResponse:
    active = Product.objects.filter(active=True).count()  # expect: RT-01
    return JsonResponse({"active": active})


@sync_to_async
def _active_products() -> list[Product]:
    return list(Product.objects.filter(active=True).select_related("supplier"))


async def export_catalogue(request: HttpRequest) -> JsonResponse:
    products = await _active_products()  # ok: RT-01
    path = services.export_catalogue(products)  # expect: RT-01
    return JsonResponse({"path": path})


async def export_catalogue_offloaded(request: HttpRequest) -> JsonResponse:
    products = await _active_products()
    path = await sync_to_async(services.export_catalogue)(products)  # ok: RT-01
    return JsonResponse({"path": path})


async def rebuild_index(request: HttpRequest) -> JsonResponse:
    products = await sync_to_async(list)(Product.objects.filter(active=True))  # ok: RT-01
    output = services.rebuild_search_index(products)  # expect: RT-01  (its sleep is evidence of the same finding)
    return JsonResponse({"output": output})


def rebuild_index_sync(request: HttpRequest) -> JsonResponse:
    products = list(Product.objects.filter(active=True))  # ok: RT-01
    return JsonResponse({"output": services.rebuild_search_index(products)})  # ok: RT-01, RT-03


async def upload_image(request: HttpRequest, sku: str) -> JsonResponse:
    path = services.store_product_image(sku, request.body)  # expect: RT-01  (its CPU-bound work is evidence of the same finding)
    return JsonResponse({"path": path})


async def upload_image_offloaded(request: HttpRequest, sku: str) -> JsonResponse:
    thumbnail = await sync_to_async(make_thumbnail)(request.body)  # ok: RT-05
    width, height = await asyncio.to_thread(image_size, thumbnail)  # ok: RT-05
    path = await sync_to_async(services.store_product_image)(sku, request.body)  # ok: RT-01, RT-05
    return JsonResponse({"path": path, "width": width, "height": height})


async def preview_image(request: HttpRequest) -> HttpResponse:
    return HttpResponse(make_thumbnail(request.body), content_type="image/jpeg")  # expect: RT-05


def preview_image_sync(request: HttpRequest) -> HttpResponse:
    return HttpResponse(make_thumbnail(request.body), content_type="image/jpeg")  # ok: RT-05


async def place_order(request: HttpRequest) -> JsonResponse:
    product = await Product.objects.aget(sku=request.POST["sku"])
    order = await Order.objects.acreate(product=product, quantity=int(request.POST["quantity"]), email=request.POST["email"])  # ok: RT-01
    return JsonResponse({"order": order.pk})


async def place_order_legacy(request: HttpRequest) -> JsonResponse:
    product = await Product.objects.aget(sku=request.POST["sku"])
    order = Order.objects.create(product=product, quantity=int(request.POST["quantity"]), email=request.POST["email"])  # expect: RT-01
    return JsonResponse({"order": order.pk})


async def reserve_stock(request: HttpRequest, sku: str) -> JsonResponse:
    for _ in range(10):
        if await Product.objects.filter(sku=sku, stock__gt=0).aupdate(stock=F("stock") - 1):
            return JsonResponse({"reserved": True})
        time.sleep(0.1)  # expect: RT-03
    return JsonResponse({"reserved": False}, status=409)


async def reserve_stock_v2(request: HttpRequest, sku: str) -> JsonResponse:
    for _ in range(10):
        if await Product.objects.filter(sku=sku, stock__gt=0).aupdate(stock=F("stock") - 1):
            return JsonResponse({"reserved": True})
        await asyncio.sleep(0.1)  # ok: RT-03
    return JsonResponse({"reserved": False}, status=409)


def reserve_stock_sync(request: HttpRequest, sku: str) -> JsonResponse:
    for _ in range(10):
        if Product.objects.filter(sku=sku, stock__gt=0).update(stock=F("stock") - 1):  # ok: RT-01
            return JsonResponse({"reserved": True})
        time.sleep(0.1)  # ok: RT-03
    return JsonResponse({"reserved": False}, status=409)
