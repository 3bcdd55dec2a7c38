#!/usr/bin/env python3
"""A large SigMF recording that takes no disk: a sparse data file (holes read
as zeros) of SIZE_GIB GiB, ci16_le, CHANNELS interleaved channels, and its
meta file written by the `sigmf` package (checksum skipped: it would read
the whole file). Pulses are cut on a PRI grid of SAMPLES samples, so the
number of pulses is SIZE / (4 * CHANNELS * SAMPLES).

  make_large.py STEM SIZE_GIB CHANNELS SAMPLES
"""
import os
import sys

from sigmf import SigMFFile


def main():
    stem, gib, ch, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    data = stem + ".sigmf-data"
    with open(data, "wb") as f:
        f.truncate(gib << 30)
    fs = 10e6
    g = {
        "core:datatype": "ci16_le", "core:sample_rate": fs, "core:num_channels": ch,
        "core:extensions": [{"name": "radarflow", "version": "1.0.0", "optional": False}],
        "core:geolocation": {"type": "Point", "coordinates": [4.4, 52.0, 10.0]},
        "radarflow:waveform": "lfm", "radarflow:bandwidth_hz": 5e6, "radarflow:pulse_width_s": 20e-6,
        "radarflow:pri_s": samples / fs, "radarflow:pulses_per_dwell": 64, "radarflow:azimuth_deg": 30.0,
        "radarflow:element_position_m": [[0.05 * k, 0.0, 0.0] for k in range(ch)],
    }
    m = SigMFFile(data_file=data, global_info=g, skip_checksum=True)
    m.add_capture(0, metadata={"core:frequency": 3e9, "core:datetime": "2024-05-01T12:00:00Z"})
    m.tofile(stem + ".sigmf-meta")


if __name__ == "__main__":
    main()
