"""How long the shared enrichment takes per message (target: well under 5 ms after warm-up).

Run: .venv/bin/python bench/extract_bench.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

from ingest.classifier import default_classifier
from normalizers.base import NormalizeContext
from normalizers.enrich import enrich
from normalizers.extract.dates import find_occurred_at
from normalizers.extract.language import detect_language
from normalizers.extract.nik import mask_niks
from normalizers.extract.phone import find_phones
from normalizers.extract.places import find_place
from normalizers.office import DEFAULT_OFFICE

MESSAGES = [
    "Selamat siang pak, saya mau lapor jalan di desa Lorok kec. Indralaya Utara sudah rusak "
    "parah sejak 3 bulan lalu, banyak lubang dan kalau hujan tergenang air. Mohon ditindak "
    "lanjuti secepatnya karena banyak kecelakaan motor. Hp saya 0812-3456-7890. Terima kasih",
    "Assalamualaikum min, kemarin sore sy ke puskesmas Indralaya antri dari jam 8 baru "
    "dipanggil jam 12, dokternya gak ada, cuma perawat. Obat jg kosong disuruh beli di apotek "
    "luar. NIK 1671054506900003. Tolong diperhatikan ya pak, kasian warga yg gak mampu.",
    "Lapor pak, ada oknum petugas di kantor kecamatan Pemulutan minta uang 200rb buat ngurus "
    "surat pindah. Katanya biar cepet. Padahal gratis kan? Kejadiannya Senin lalu jam 10 pagi. "
    "Mohon ditindak tegas. Email saya warga.pemulutan@gmail.com",
    "sampah di pinggir jalan lintas timur dekat simpang tiga sudah numpuk seminggu gak "
    "diangkut2, baunya sampe ke rumah warga, lalat banyak bgt. tgl 3 Nov sudah lapor ke "
    "kelurahan tapi blm ada tindakan. mohon dinas lingkungan hidup segera turun tangan.",
]


def timed(label: str, fn: object, *args: object, repeat: int = 300) -> None:
    assert callable(fn)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    print(
        f"{label:<28} median {statistics.median(samples):6.3f} ms   "
        f"p95 {samples[int(len(samples) * 0.95)]:6.3f} ms"
    )


def places_on_mail(count: int = 2000) -> None:
    """``find_place`` as enrich calls it on the e-mail bench's complaints: subject, body."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from email_bench import complaint

    rng = random.Random(20261123)
    texts: list[str] = []
    for i in range(count):
        msg = message_from_bytes(complaint(i, rng))
        body = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        payload = body.get_payload(decode=True)
        assert isinstance(payload, bytes)
        texts += [str(msg["Subject"]), payload.decode()]
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            find_place(text, "Sumatera Selatan", "Ogan Ilir")
        runs.append((time.perf_counter() - start) / len(texts) * 1e6)
    print(f"  places, {len(texts)} mail texts   median of 3 {statistics.median(runs):6.1f} us/call")


def main() -> None:
    received = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    start = time.perf_counter()
    classifier = default_classifier()
    print(f"train built-in classifier      {(time.perf_counter() - start) * 1000:8.1f} ms (once)")
    ctx = NormalizeContext("bench", "web", received, "file:///x", "0" * 64, classifier=classifier)
    start = time.perf_counter()
    find_place("x", DEFAULT_OFFICE.region.province, DEFAULT_OFFICE.region.regency)
    print(f"build gazetteer index (1 prov) {(time.perf_counter() - start) * 1000:8.1f} ms (once)")
    start = time.perf_counter()
    detect_language("warm up")
    print(f"load language model            {(time.perf_counter() - start) * 1000:8.1f} ms (once)")
    start = time.perf_counter()
    enrich({"text": MESSAGES[0], "received_at": received}, ctx)
    print(f"first enrich (rest of warm-up) {(time.perf_counter() - start) * 1000:8.1f} ms (once)")
    print(f"message lengths: {[len(m) for m in MESSAGES]} chars")
    for i, text in enumerate(MESSAGES):
        timed(f"enrich message {i + 1}", enrich, {"text": text, "received_at": received}, ctx)
    text = MESSAGES[0]
    tz = DEFAULT_OFFICE.tz
    timed("  phones", find_phones, text)
    timed("  nik mask", mask_niks, text)
    timed("  places", find_place, text, "Sumatera Selatan", "Ogan Ilir")
    places_on_mail()
    timed("  dates", find_occurred_at, text, received, tz)
    timed("  language", detect_language, text)
    timed("  classify", classifier.classify, text)


if __name__ == "__main__":
    main()
