#!/usr/bin/env python3
"""Writes the same radar data as a native radarflow capture in foreign forms,
with writers that are not radarflow's: SigMF recordings with the `sigmf`
package (PyPI) and HDF5 files in other layouts with h5py.

  make_recordings.py FLOAT.h5 INT16.h5 OUTDIR [--no-sigmf]

FLOAT.h5 and INT16.h5 are native captures (float32 and int16 samples). Each
recording goes into its own folder under OUTDIR, as rec.* (plus layout.ini
where the layout is not a shipped one):

  sigmf_pri/          cf32_le, all channels interleaved, one continuous
                      stream; pulses cut on a PRI grid (radarflow:pri_s)
  sigmf_ann/          ci16_be, one capture segment per dwell with a gap and
                      header bytes before each, pulses at annotations with
                      radarflow:dwell, azimuth on each dwell's first pulse
  h5_channel_major/   [channels][pulses][samples] complex64, contiguous
                      (datasets/layouts/channel-major-complex.ini)
  h5_channel_major_gzip/ the same, chunked and gzip-compressed (is copied)
  h5_split_iq/        I and Q planes [pulses][samples][channels] int16 BE,
                      chunked + gzip (datasets/layouts/split-iq-int16.ini)
  raw_be/             raw float32 big-endian [channels][pulses][samples][2]
"""
import os
import sys
from datetime import datetime, timezone

import h5py
import numpy as np


def native(path):
    f = h5py.File(path, "r")
    w = dict(f["waveform"].attrs)
    return dict(
        iq=f["iq"][...],
        scale=float(f["iq"].attrs.get("scale", 1.0)),
        w={k: (v.decode() if isinstance(v, bytes) else v) for k, v in w.items()},
        pos=f["array/element_position_m"][...],
        cal=f["array/calibration"][...] if "calibration" in f["array"] else None,
        first=f["dwell/first_pulse"][...],
        num=f["dwell/num_pulses"][...],
        az=f["dwell/azimuth_deg"][...],
        el=f["dwell/elevation_deg"][...],
        t=f["pulse_time_s"][...],
        site=(float(f.attrs["site_latitude_deg"]), float(f.attrs["site_longitude_deg"]),
              float(f.attrs["site_altitude_m"])),
        name=f.attrs["radar_name"],
    )


def iso(t):
    """ISO 8601 UTC with nanoseconds (SigMF core:datetime)."""
    whole = int(np.floor(t))
    ns = int(round((t - whole) * 1e9))
    if ns == 1000000000:
        whole, ns = whole + 1, 0
    return datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % ns


def radar_keys(n):
    """The radarflow namespace keys every SigMF recording here carries."""
    w = n["w"]
    return {
        "core:extensions": [{"name": "radarflow", "version": "1.0.0", "optional": False}],
        "core:geolocation": {"type": "Point", "coordinates": [n["site"][1], n["site"][0], n["site"][2]]},
        "radarflow:radar_name": "imported " + str(n["name"]),
        "radarflow:waveform": "lfm",
        "radarflow:bandwidth_hz": float(w["bandwidth_hz"]),
        "radarflow:pulse_width_s": float(w["pulse_width_s"]),
        "radarflow:pri_s": float(w["pri_s"]),
        "radarflow:range_gate_delay_s": float(w["range_gate_delay_s"]),
        "radarflow:element_position_m": n["pos"].tolist(),
        "radarflow:scale": n["scale"],
    }


def sigmf_pri(n, d):
    from sigmf import SigMFFile

    iq, w = n["iq"], n["w"]
    P, C, S, _ = iq.shape
    pri = int(round(w["pri_s"] * w["sample_rate_hz"]))
    # The native pulses follow one another one PRI apart (no gaps).
    assert np.allclose(np.diff(n["t"]), w["pri_s"], atol=1e-6)
    stream = np.zeros((P * pri, C, 2), dtype="<f4")
    for k in range(P):
        stream[k * pri:k * pri + S] = iq[k].transpose(1, 0, 2)
    stream.tofile(os.path.join(d, "rec.sigmf-data"))
    g = {"core:datatype": "cf32_le", "core:sample_rate": float(w["sample_rate_hz"]), "core:num_channels": C,
         "core:description": "radarflow import test, PRI grid"}
    g.update(radar_keys(n))
    g["radarflow:samples_per_pulse"] = S
    g["radarflow:pulses_per_dwell"] = int(n["num"][0])
    g["radarflow:azimuth_deg"] = sorted(set(n["az"].tolist()), key=n["az"].tolist().index)
    g["radarflow:elevation_deg"] = float(n["el"][0])
    m = SigMFFile(data_file=os.path.join(d, "rec.sigmf-data"), global_info=g)
    m.add_capture(0, metadata={"core:frequency": float(w["center_frequency_hz"]), "core:datetime": iso(n["t"][0])})
    m.validate()
    m.tofile(os.path.join(d, "rec.sigmf-meta"))


def sigmf_ann(n, d):
    from sigmf import SigMFFile

    iq, w = n["iq"], n["w"]
    P, C, S, _ = iq.shape
    pri = int(round(w["pri_s"] * w["sample_rate_hz"]))
    header = 64
    data = bytearray()
    caps, anns, idx = [], [], 0
    for dw, (f0, k) in enumerate(zip(n["first"], n["num"])):
        gap = 137 + 11 * dw  # receiver samples between dwells, not pulses
        seg = np.zeros((gap + k * pri, C, 2), dtype=">i2")
        for j in range(k):
            seg[gap + j * pri:gap + j * pri + S] = iq[f0 + j].transpose(1, 0, 2)
            a = {"radarflow:pulse": True, "radarflow:dwell": dw}
            if j == 0:
                a["radarflow:azimuth_deg"] = float(n["az"][dw])
            anns.append((idx + gap + j * pri, S, a))
        data += bytes([dw & 0xFF]) * header  # a recorder's block header
        data += seg.tobytes()
        # The segment's time: its first sample lies gap samples before the dwell's first pulse.
        caps.append((idx, {"core:frequency": float(w["center_frequency_hz"]),
                           "core:datetime": iso(n["t"][f0] - gap / w["sample_rate_hz"]),
                           "core:header_bytes": header}))
        idx += seg.shape[0]
    with open(os.path.join(d, "rec.sigmf-data"), "wb") as fh:
        fh.write(data)
    g = {"core:datatype": "ci16_be", "core:sample_rate": float(w["sample_rate_hz"]), "core:num_channels": C}
    g.update(radar_keys(n))
    g["radarflow:samples_per_pulse"] = S
    g["radarflow:elevation_deg"] = float(n["el"][0])
    m = SigMFFile(data_file=os.path.join(d, "rec.sigmf-data"), global_info=g)
    for start, meta in caps:
        m.add_capture(start, metadata=meta)
    for start, count, meta in anns:
        m.add_annotation(start, count, metadata=meta)
    m.validate()
    m.tofile(os.path.join(d, "rec.sigmf-meta"))


def schedule(g, n, names):
    for key, name in zip(("first", "num", "az", "el"), names):
        g.create_dataset(name, data=n[key])


def h5_channel_major(n, d, gzip):
    iq, w = n["iq"], n["w"]
    cx = (iq[..., 0] + 1j * iq[..., 1]).astype(np.complex64).transpose(1, 0, 2)  # [C][P][S]
    with h5py.File(os.path.join(d, "rec.h5"), "w") as f:
        f.attrs["station"] = "vendor A " + str(n["name"])
        f.attrs["lat_deg"], f.attrs["lon_deg"], f.attrs["height_m"] = n["site"]
        r = f.create_group("radar")
        kw = dict(chunks=(1, 8, cx.shape[2]), compression="gzip") if gzip else {}
        r.create_dataset("echoes", data=cx, **kw)
        r.attrs["carrier_ghz"] = w["center_frequency_hz"] / 1e9
        r.attrs["adc_rate_hz"] = w["sample_rate_hz"]
        r.attrs["chirp_bw_mhz"] = w["bandwidth_hz"] / 1e6
        r.attrs["pulse_length_s"] = w["pulse_width_s"]
        r.attrs["pri_s"] = w["pri_s"]
        r.attrs["first_sample_delay_s"] = w["range_gate_delay_s"]
        r.create_dataset("elements_enu_m", data=n["pos"])
        r.create_dataset("pulse_times_s", data=n["t"])
        schedule(r.create_group("schedule"), n, ("first_pulse", "pulses", "azimuth_deg", "elevation_deg"))


def h5_split(n, d):
    iq, w = n["iq"], n["w"]
    assert iq.dtype == np.int16
    with h5py.File(os.path.join(d, "rec.h5"), "w") as f:
        f.attrs["site_name"] = "vendor B " + str(n["name"])
        f.attrs["site_latitude"], f.attrs["site_longitude"], f.attrs["site_height"] = n["site"]
        r = f.create_group("raw")
        for name, part in (("i", 0), ("q", 1)):
            plane = iq[..., part].transpose(0, 2, 1).astype(">i2")  # [P][S][C]
            r.create_dataset(name, data=plane, chunks=(4, plane.shape[1], plane.shape[2]), compression="gzip")
        r.attrs["rf_hz"] = w["center_frequency_hz"]
        r.attrs["fs_hz"] = w["sample_rate_hz"]
        r.attrs["sweep_hz"] = w["bandwidth_hz"]
        r.attrs["tau_s"] = w["pulse_width_s"]
        r.attrs["pri_s"] = w["pri_s"]
        r.attrs["gate_delay_s"] = w["range_gate_delay_s"]
        r.attrs["volts_per_lsb"] = n["scale"]
        r.create_dataset("t_s", data=n["t"])
        f.create_dataset("geometry/enu_m", data=n["pos"])
        schedule(f.create_group("schedule"), n, ("first", "count", "az_deg", "el_deg"))


def raw_be(n, d):
    iq, w = n["iq"], n["w"]
    P, C, S, _ = iq.shape
    np.ascontiguousarray(iq.transpose(1, 0, 2, 3)).astype(">f4").tofile(os.path.join(d, "rec.bin"))
    g = lambda v: "%.17g" % v
    lines = ["[source]", "format = raw", "type = float32", "byte_order = big",
             "shape = %d %d %d 2" % (C, P, S), "axes = channel pulse sample iq", "scale = " + g(n["scale"]),
             "[radar]", "name = raw " + str(n["name"]), "site_latitude_deg = " + g(n["site"][0]),
             "site_longitude_deg = " + g(n["site"][1]), "site_altitude_m = " + g(n["site"][2]), "[waveform]"]
    lines += ["%s = %s" % (k, g(w[k])) for k in ("center_frequency_hz", "sample_rate_hz", "bandwidth_hz",
                                                 "pulse_width_s", "pri_s", "range_gate_delay_s")]
    lines += ["[array]", "element_position_m = " + " ".join(g(v) for v in n["pos"][0])]
    lines += ["    " + " ".join(g(v) for v in p) for p in n["pos"][1:]]
    lines += ["[pulses]", "time_s = " + " ".join(g(v) for v in n["t"][:4])]
    lines += ["    " + " ".join(g(v) for v in n["t"][i:i + 4]) for i in range(4, len(n["t"]), 4)]
    lines += ["[dwell]", "pulses = %d" % n["num"][0], "azimuth_deg = " + " ".join(g(v) for v in n["az"]),
              "elevation_deg = " + " ".join(g(v) for v in n["el"])]
    with open(os.path.join(d, "layout.ini"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    fl, i16, out = sys.argv[1:4]
    with_sigmf = "--no-sigmf" not in sys.argv[4:]
    nf, ni = native(fl), native(i16)
    jobs = [("h5_channel_major", lambda d: h5_channel_major(nf, d, False)),
            ("h5_channel_major_gzip", lambda d: h5_channel_major(nf, d, True)),
            ("h5_split_iq", lambda d: h5_split(ni, d)),
            ("raw_be", lambda d: raw_be(nf, d))]
    if with_sigmf:
        jobs += [("sigmf_pri", lambda d: sigmf_pri(nf, d)), ("sigmf_ann", lambda d: sigmf_ann(ni, d))]
    for name, fn in jobs:
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        fn(d)
        print("wrote", d)


if __name__ == "__main__":
    main()
