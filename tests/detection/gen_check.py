#!/usr/bin/env python3
"""Captures written here with numpy and h5py from docs/formats.md alone (an
independent writer, not radarflow's simulator), processed by `radarflow
process`, and the plots checked against what was written:

  coverage    a 16-element ULA, a declared 24 degree transmit beam
              (/dwell/tx_beamwidth_az_deg), targets across it at about
              20 dB post-processing SNR: each found in every dwell, once,
              azimuth error below a quarter of the (untapered, so
              smaller) 3 dB beamwidth; targets at +-20 degrees, past the
              fan: never a plot at a wrong (clamped) angle.
  resolution  two equal 20 dB targets 3.5 range resolution cells apart,
              and 4 Doppler bins apart: both reported in every dwell,
              no target with two plots.
  snr         strong single targets (LFM 40 and 50 dB, a custom NLFM
              reference 30 and 40 dB): one plot each, SNR read within
              1.5 dB of the written one (post-processing SNR computed here
              from the written element SNR and the documented tapers:
              pulse_compression.window = auto - Hamming for LFM, none for
              a custom reference - and the Hamming Doppler window).

usage: gen_check.py RADARFLOW WORKDIR
"""
import csv
import json
import math
import os
import subprocess
import sys

import h5py
import numpy as np

C = 299792458.0
FC, FS, B, T = 3e9, 5e6, 4e6, 10e-6
LAM = C / FC
M = int(round(T * FS))
P = 32
RGD = 1e-4


def hamming(n):
    i = np.arange(n)
    return 0.54 - 0.46 * np.cos(2 * np.pi * (i + 0.5) / n)


def lfm(t):
    return np.where((t >= 0) & (t < T), np.exp(1j * (np.pi * (B / T) * t * t - np.pi * B * t)), 0)


def nlfm_ref():
    b = 1.25
    t = np.arange(M) / FS
    x = 2 * t / T - 1
    ph = 2 * np.pi * T * B * (np.log(np.cos(b)) - np.log(np.cos(b * x))) / (4 * b * np.tan(b))
    return np.exp(1j * ph)


def write_capture(path, nel, dwells, samples, pri, targets, tx_bw=None, custom=False, seed=1):
    """targets: dicts with cell (range cell at dwell 0), bin (Doppler bin
    offset from K/2, the target's radial velocity), az (deg), snr_db
    (element, per pulse)."""
    rng = np.random.default_rng(seed)
    pos = np.zeros((nel, 3))
    pos[:, 0] = (np.arange(nel) - 0.5 * (nel - 1)) * LAM / 2
    ref = nlfm_ref() if custom else None
    npulse = dwells * P
    times = 1.7e9 + np.arange(npulse) * pri
    iq = np.zeros((npulse, nel, samples, 2), np.float32)
    si = np.arange(samples) / FS + RGD
    for p in range(npulse):
        x = (rng.standard_normal((nel, samples)) + 1j * rng.standard_normal((nel, samples))) / np.sqrt(2)
        tp = times[p] - times[0]
        for tg in targets:
            v = -tg["bin"] * LAM / (2 * P * pri)  # f_d = -2 v / lambda = bin / (K pri)
            r = C / 2 * (RGD + (tg["cell"] - 1e-6) / FS) + v * tp
            tau = 2 * r / C
            u = si - tau
            if custom:
                k = np.floor(u * FS + 1e-9).astype(int)
                w = np.where((k >= 0) & (k < M), ref[np.clip(k, 0, M - 1)], 0)
            else:
                w = lfm(u)
            d = np.array([math.sin(math.radians(tg["az"])), math.cos(math.radians(tg["az"])), 0.0])
            steer = np.exp(1j * 2 * np.pi / LAM * (pos @ d))
            a = 10 ** (tg["snr_db"] / 20) * np.exp(1j * tg.get("phase", 0.3)) * np.exp(-2j * np.pi * FC * tau)
            x += a * steer[:, None] * w[None, :]
        iq[p, :, :, 0] = x.real
        iq[p, :, :, 1] = x.imag
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "radarflow.capture"
        f.attrs["format_version"] = np.int32(1)
        f.attrs["radar_name"] = "independent writer"
        f.attrs["site_latitude_deg"] = 52.0
        f.attrs["site_longitude_deg"] = 4.0
        f.attrs["site_altitude_m"] = 0.0
        g = f.create_group("waveform")
        g.attrs["type"] = "custom" if custom else "lfm"
        g.attrs["center_frequency_hz"] = FC
        g.attrs["sample_rate_hz"] = FS
        g.attrs["bandwidth_hz"] = B
        g.attrs["pulse_width_s"] = T
        g.attrs["pri_s"] = pri
        g.attrs["range_gate_delay_s"] = RGD
        if custom:
            g.create_dataset("reference", data=np.stack([ref.real, ref.imag], axis=1).astype(np.float32))
        f.create_group("array").create_dataset("element_position_m", data=pos)
        f.create_dataset("iq", data=iq, chunks=(1, nel, samples, 2))
        f["iq"].attrs["scale"] = 1.0
        dw = f.create_group("dwell")
        dw.create_dataset("first_pulse", data=np.arange(dwells, dtype=np.int64) * P)
        dw.create_dataset("num_pulses", data=np.full(dwells, P, np.int32))
        dw.create_dataset("azimuth_deg", data=np.zeros(dwells))
        dw.create_dataset("elevation_deg", data=np.zeros(dwells))
        if tx_bw:
            dw.create_dataset("tx_beamwidth_az_deg", data=np.full(dwells, tx_bw))
        f.create_dataset("pulse_time_s", data=times)


def process(rf, cap, out):
    r = subprocess.run([rf, "process", cap, "-o", out, "--device", "cpu"], capture_output=True, text=True)
    if r.returncode:
        sys.exit("radarflow process %s failed: %s" % (cap, r.stderr))
    with open(os.path.join(out, "plots.csv")) as f:
        plots = list(csv.DictReader(f))
    with open(os.path.join(out, "run.json")) as f:
        run = json.load(f)
    return plots, run


def gains(custom):
    """Post-processing SNR over element SNR for one element: compression
    (Hamming-tapered LFM replica, or the untapered custom one) times the
    Hamming Doppler window's coherent gain."""
    t = np.ones(M) if custom else hamming(M)
    w = hamming(P)
    return (t.sum() ** 2 / (t * t).sum()) * (w.sum() ** 2 / (w * w).sum())


def nearest(plots, dwell, cell, bin_, pri):
    """Plots of a dwell within 1.5 cells and 1 bin of (cell, bin)."""
    cellm = C / (2 * FS)
    vbin = LAM / (2 * P * pri)
    out = []
    for p in plots:
        if int(p["dwell"]) != dwell:
            continue
        c = (float(p["range_m"]) / (C / 2) - RGD) * FS
        b = -float(p["radial_velocity_mps"]) / vbin
        if abs(c - cell) < 1.5 and abs(b - bin_) < 1.0:
            out.append(p)
    return out


def main():
    rf, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    fails = []

    # coverage: 16 elements, lambda / 2; the uniform array's 3 dB beamwidth
    # 0.886 lambda / (N d) (radarflow's tapered one is wider)
    nel, dwells, pri = 16, 4, 6e-4
    bw = math.degrees(0.886 / (nel * 0.5))
    offs = list(np.linspace(-12, 12, 9)) + [-20.0, 20.0]
    g_arr = nel  # 20 dB post-processing SNR for an untapered beam on axis; the taper costs ~1 dB
    targets = [dict(cell=100 + 150 * i, bin=5, az=o, snr_db=20 - 10 * math.log10(gains(False) * g_arr) + 1.0)
               for i, o in enumerate(offs)]
    cap = os.path.join(work, "coverage.h5")
    write_capture(cap, nel, dwells, 100 + 150 * len(offs) + 100, pri, targets, tx_bw=24.0)
    plots, run = process(rf, cap, os.path.join(work, "coverage"))
    for d in range(dwells):
        for i, tg in enumerate(targets):
            near = nearest(plots, d, tg["cell"], tg["bin"], pri)
            errs = [abs(((float(p["azimuth_deg"]) - tg["az"] + 180) % 360) - 180) for p in near]
            inside = abs(tg["az"]) <= 12
            if inside and len(near) != 1:
                fails.append("coverage: dwell %d, target at %.1f deg: %d plots" % (d, tg["az"], len(near)))
            if any(e >= bw / 4 for e in errs):
                fails.append("coverage: dwell %d, target at %.1f deg: azimuth error %.2f deg >= %.2f"
                             % (d, tg["az"], max(errs), bw / 4))
    outside = sum(len(nearest(plots, d, t["cell"], t["bin"], pri)) for d in range(dwells) for t in targets[-2:])
    print("coverage: %d plots, %d at the targets past the fan, run.json peaks_outside_fan %d"
          % (len(plots), outside, run["detection"]["peaks_outside_fan"]))
    if outside == 0 and run["detection"]["peaks_outside_fan"] < 1:
        fails.append("coverage: targets past the fan neither plotted nor counted")

    # resolution: one element; pairs 3.5 resolution cells (4.375 samples) and 4 bins apart
    dwells, pri = 6, 4e-4
    res = FS / B
    g20 = 20 - 10 * math.log10(gains(False))
    targets = []
    for k in range(4):
        c0 = 100 + 300 * k + 0.3 * k
        targets.append(dict(cell=c0, bin=5, az=0, snr_db=g20, phase=0.4 * k))
        targets.append(dict(cell=c0 + 3.5 * res, bin=5, az=0, snr_db=g20, phase=1.7 + 0.9 * k))
    for k in range(4):
        c0 = 1300 + 300 * k + 0.2 * k
        targets.append(dict(cell=c0, bin=5, az=0, snr_db=g20, phase=0.2 * k))
        targets.append(dict(cell=c0, bin=9, az=0, snr_db=g20, phase=2.1 + 0.7 * k))
    cap = os.path.join(work, "resolution.h5")
    write_capture(cap, 1, dwells, 2600, pri, targets, seed=2)
    plots, run = process(rf, cap, os.path.join(work, "resolution"))
    for d in range(dwells):
        for tg in targets:
            n = len(nearest(plots, d, tg["cell"], tg["bin"], pri))
            # 1.5 cells around each of a pair 4.4 samples apart do not overlap
            if n != 1:
                fails.append("resolution: dwell %d, target at cell %.2f bin %d: %d plots"
                             % (d, tg["cell"], tg["bin"], n))
    print("resolution: %d plots for %d targets x %d dwells" % (len(plots), len(targets), dwells))

    # SNR read back, one plot per strong target
    for custom, snrs in ((False, (40.0, 50.0)), (True, (30.0, 40.0))):
        dwells, pri = 4, 4e-4
        g = 10 * math.log10(gains(custom))
        targets = [dict(cell=150 + 400 * i, bin=6, az=0, snr_db=s - g) for i, s in enumerate(snrs)]
        cap = os.path.join(work, "snr_%s.h5" % ("nlfm" if custom else "lfm"))
        write_capture(cap, 1, dwells, 1000, pri, targets, custom=custom, seed=3)
        plots, run = process(rf, cap, os.path.join(work, "snr_%s" % ("nlfm" if custom else "lfm")))
        for d in range(dwells):
            for s, tg in zip(snrs, targets):
                near = nearest(plots, d, tg["cell"], tg["bin"], pri)
                if len(near) != 1:
                    fails.append("snr %s: dwell %d, %g dB target: %d plots" % ("nlfm" if custom else "lfm", d, s, len(near)))
                    continue
                got = float(near[0]["snr_db"])
                if abs(got - s) > 1.5:
                    fails.append("snr %s: %g dB target read %.2f dB" % ("nlfm" if custom else "lfm", s, got))
        others = len(plots) - sum(len(nearest(plots, d, t["cell"], t["bin"], pri)) for d in range(dwells) for t in targets)
        print("snr %s: %d plots, %d not at a target" % ("nlfm" if custom else "lfm", len(plots), others))
        if others > 1:
            fails.append("snr %s: %d plots away from the targets (sidelobes?)" % ("nlfm" if custom else "lfm", others))

    for f in fails:
        print("FAIL " + f)
    print("detection (independent writer): %s" % ("ok" if not fails else "%d failures" % len(fails)))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
