"""Product image processing."""
import io

from PIL import Image

THUMBNAIL = (320, 320)


def make_thumbnail(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    image = image.convert("RGB")
    image.thumbnail(THUMBNAIL)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size
