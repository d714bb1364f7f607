#!/usr/bin/env bash
# Debian packages the tests need beyond Python: Pango and fonts for the PDF reports (WeasyPrint),
# Tesseract to read rendered PDF pages back, Chromium for the web app's browser test, and strace
# for the test that proves no command connects anywhere (tests/test_zero_network.py), and
# FFmpeg's development files to build Meta's vpdq from source (the `interop` extra, which the
# vPDQ reference-agreement tests compare against).
# Installs only what is missing (CI runs as root).
set -euo pipefail
need=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core tesseract-ocr tesseract-ocr-eng \
    chromium chromium-driver strace pkg-config libavcodec-dev libavformat-dev libavutil-dev \
    libswscale-dev libswresample-dev libavdevice-dev libavfilter-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
