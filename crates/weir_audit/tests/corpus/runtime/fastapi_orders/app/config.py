"""Settings, read from a YAML file at startup."""
import os
from dataclasses import dataclass

from app.files import read_yaml

CONFIG_PATH = os.environ.get("ORDERS_CONFIG", "/etc/orders/config.yaml")


@dataclass(frozen=True)
class Settings:
    shipping_url: str
    tracking_url: str
    invoice_dir: str
    export_dir: str
    carriers: tuple[str, ...]
    webhook_secret: str


def parse_settings(raw: dict) -> Settings:
    return Settings(
        shipping_url=raw["shipping_url"],
        tracking_url=raw["tracking_url"],
        invoice_dir=raw.get("invoice_dir", "/var/lib/orders/invoices"),
        export_dir=raw.get("export_dir", "/var/lib/orders/exports"),
        carriers=tuple(raw.get("carriers", ["dhl", "ups", "postnl"])),
        webhook_secret=os.environ.get("WEBHOOK_SECRET", raw.get("webhook_secret", "")),
    )


def load_settings(path: str = CONFIG_PATH) -> Settings:
    return parse_settings(read_yaml(path))
