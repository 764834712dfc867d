#!/usr/bin/env bash
# Operating-system packages secondme's pipeline uses: tesseract (OCR of images and scanned PDFs),
# ffmpeg (decoding audio formats other than WAV), and a C++ toolchain for llama.cpp.
set -euo pipefail
packages=(tesseract-ocr tesseract-ocr-eng ffmpeg cmake build-essential)

if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "installing system packages: ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
elif command -v brew >/dev/null 2>&1; then
    for p in tesseract ffmpeg cmake; do brew list "$p" >/dev/null 2>&1 || brew install "$p"; done
else
    echo "note: install tesseract and ffmpeg with your package manager for OCR and audio" >&2
fi
