from django.db import models


class Supplier(models.Model):
    name = models.CharField(max_length=100)
    feed_url = models.URLField()
    active = models.BooleanField(default=True)


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    supplier = models.ForeignKey(Supplier, null=True, on_delete=models.SET_NULL)
    image = models.ImageField(upload_to="products/", blank=True)


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.IntegerField()
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
