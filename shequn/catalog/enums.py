# Stock at or below this many units shows as 仅剩N件 on the product page.
LOW_STOCK_THRESHOLD = 10

# Thumbnails: longest side in pixels and JPEG quality.
THUMBNAIL_SIZE = 400
THUMBNAIL_QUALITY = 85

# Uploaded product images.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
ALLOWED_IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
