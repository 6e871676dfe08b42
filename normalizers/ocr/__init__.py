"""OCR of scanned complaint forms: decode, clean-up, Tesseract, fields, signature box."""
