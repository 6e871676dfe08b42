"""The built-in classifier on 60 complaints written apart from the training set.

A statistical model is allowed mistakes, so the table asserts an overall accuracy rather than
every row; the rows the model gets wrong are printed for whoever tunes it next.
"""

from __future__ import annotations

from ingest.classifier import default_classifier, shipped_rows

FRESH: list[tuple[str, str]] = [
    ("jalan di rt 05 kayak kolam ikan kalau hujan, tolong diurug", "infrastruktur"),
    ("lampu pju di jalan masuk kampung mati 2 minggu, rawan maling", "infrastruktur"),
    ("jembatan beton di desa sebelah retak memanjang, takut ambruk", "infrastruktur"),
    ("aspal jalan kabupaten mengelupas padahal baru 3 bulan", "infrastruktur"),
    ("gorong2 depan sekolah ambles, motor bisa masuk lubang", "infrastruktur"),
    ("jalan setapak ke makam belum pernah dicor, becek", "infrastruktur"),
    ("puskesmas gak ada dokter pas malam, pasien disuruh ke kota", "kesehatan"),
    ("bpjs ibu sy ditolak klinik katanya faskesnya beda", "kesehatan"),
    ("vaksin polio anak sy gak ada stoknya di posyandu", "kesehatan"),
    ("ada 3 warga kena dbd, minta fogging pak", "kesehatan"),
    ("perawat rsud ngomongnya kasar ke pasien lansia", "kesehatan"),
    ("obat diabetes ibu saya tidak tersedia di apotek puskesmas", "kesehatan"),
    ("guru kelas 2 sering gak masuk, anak2 cuma main", "pendidikan"),
    ("sekolah suruh beli lks 200rb per semester", "pendidikan"),
    ("ppdb online error terus, pendaftaran anak sy gagal", "pendidikan"),
    ("atap ruang kelas smp bocor, buku murid basah", "pendidikan"),
    ("kip anak saya belum cair sejak semester lalu", "pendidikan"),
    ("anak sy dibully teman sekelas, wali kelas cuek", "pendidikan"),
    ("ktp el sy hilang, ngurus baru katanya blangko kosong", "kependudukan"),
    ("akta lahir anak sy salah tanggal lahir", "kependudukan"),
    ("kk belum diupdate padahal sudah nikah setahun", "kependudukan"),
    ("nik sy terdaftar di kota lain, padahal gak pernah pindah", "kependudukan"),
    ("antrian dukcapil habis jam 7 pagi, sy gak kebagian", "kependudukan"),
    ("pindah datang dari jakarta, kk baru belum jadi sebulan", "kependudukan"),
    ("sampah di tps pasar udah 10 hari gak diangkut, belatungan", "lingkungan"),
    ("pabrik tahu buang limbah ke parit, bau busuk", "lingkungan"),
    ("asap kebakaran lahan masuk rumah, anak sesak", "lingkungan"),
    ("sungai dekat rumah penuh sampah plastik, tiap hujan meluap", "lingkungan"),
    ("debu truk tambang bikin rumah warga kotor tiap hari", "lingkungan"),
    ("pohon mahoni besar di pinggir jalan sudah lapuk mau tumbang", "lingkungan"),
    ("anak muda balapan liar tiap sabtu malam di jalan raya", "ketertiban"),
    ("ada judi kartu di pos ronda tiap malam", "ketertiban"),
    ("pkl jualan di trotoar sampai pejalan kaki turun ke jalan", "ketertiban"),
    ("maling kotak amal masjid sudah 2 kali bulan ini", "ketertiban"),
    ("orang mabuk teriak2 tengah malam di gang", "ketertiban"),
    ("parkir liar depan minimarket bikin macet", "ketertiban"),
    ("air pdam gak ngalir dari kemarin, tagihan jalan terus", "pelayanan_publik"),
    ("listrik padam 6 jam tanpa pemberitahuan dari pln", "pelayanan_publik"),
    ("kantor kelurahan kosong jam 10 pagi, gak ada yg melayani", "pelayanan_publik"),
    ("bikin paspor antre lama, sistem offline terus", "pelayanan_publik"),
    ("website perizinan pemkab tidak bisa dibuka", "pelayanan_publik"),
    ("call center pemda tidak pernah angkat telpon", "pelayanan_publik"),
    ("nenek sy sebatang kara gak dapat bantuan apa2", "sosial"),
    ("bansos beras cuma dapat orang dekat kades", "sosial"),
    ("pkh sy distop tanpa pemberitahuan", "sosial"),
    ("korban kebakaran di rt kami belum dapat bantuan", "sosial"),
    ("anak difabel tetangga butuh kursi roda", "sosial"),
    ("keluarga miskin di ujung gang belum masuk dtks", "sosial"),
    ("kades minta 500rb buat tanda tangan surat jual beli tanah", "pungli_korupsi"),
    ("oknum petugas dishub narik uang dari sopir angkot", "pungli_korupsi"),
    ("dana desa untuk sumur bor tidak jelas, sumurnya gak ada", "pungli_korupsi"),
    ("masuk pns katanya bisa lewat orang dalam bayar 100jt", "pungli_korupsi"),
    ("pegawai kelurahan minta uang lelah buat urus surat", "pungli_korupsi"),
    ("bantuan blt dipotong 100rb sama perangkat desa", "pungli_korupsi"),
    ("min mau tanya syarat bikin skck apa aja", "informasi"),
    ("terima kasih pak camat jalan desa kami sudah mulus", "informasi"),
    ("kapan jadwal vaksin rabies untuk kucing di kecamatan", "informasi"),
    ("saran, tolong perpanjang jam buka mpp sampai sore", "informasi"),
    ("apakah ada pelatihan kerja gratis dari disnaker", "informasi"),
    ("gimana cara daftar umkm binaan pemkab", "informasi"),
]


def test_fresh_texts_are_not_training_rows() -> None:
    training = {t for t, _ in shipped_rows()}
    assert not training & {t for t, _ in FRESH}
    assert len(FRESH) >= 50


def test_accuracy_on_fresh_complaints() -> None:
    model = default_classifier()
    wrong = [(t, c, model.classify(t)[0]) for t, c in FRESH if model.classify(t)[0] != c]
    for text, expected, got in wrong:
        print(f"expected {expected:<16} got {got:<16} {text}")
    accuracy = 1 - len(wrong) / len(FRESH)
    print(f"fresh accuracy {accuracy:.3f} on {len(FRESH)}")
    assert accuracy >= 0.8
