#!/usr/bin/env python3
"""GOSPA (position, p = 2) of radarflow's tracks against Stone Soup's GNN + EKF
on the same plots, both scored against the capture's /truth.

Usage: gospa_compare.py CAPTURE.h5 PLOTS.csv TRACKS.csv --cutoff C [--max-speed V]

Stone Soup gets what radarflow's tracker gets: the plots (range, azimuth,
elevation with the same per-plot sigmas: cell x sqrt(1/(2 SNR) + floor^2)),
a nearly-constant-velocity model with the same white acceleration, a
velocity prior of max_speed / sqrt(3) per axis, Mahalanobis gating at the
same probability, GNN by optimal assignment, confirmation after 3 plots,
deletion after 3 missed dwells in a row. It does not use the radial
velocity (Stone Soup has no ambiguous-Doppler model) or beam coverage.
Scored at every dwell time: radarflow's live confirmed or coasting tracks
(each at its last row, moved on with its velocity: a dwell whose beams miss a
track writes no row for it); Stone Soup's confirmed tracks (3 plots). Exit 0 only when radarflow's mean GOSPA is no
worse than Stone Soup's.
"""
import argparse
import csv
import datetime
import math
import sys

import h5py
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeStepsDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator, SimpleMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
from stonesoup.models.transition.linear import (CombinedLinearGaussianTransitionModel,
                                                ConstantVelocity)
from stonesoup.predictor.kalman import ExtendedKalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import ExtendedKalmanUpdater

EPOCH = datetime.datetime(2020, 1, 1)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def gospa(X, Y, c, p=2.0):
    """GOSPA with alpha = 2 (Rahmathullah et al. 2017) for point sets."""
    if len(X) == 0 and len(Y) == 0:
        return 0.0
    cost = 0.0
    if len(X) and len(Y):
        d = np.linalg.norm(np.asarray(X)[:, None, :] - np.asarray(Y)[None, :, :], axis=2)
        d = np.minimum(d, c) ** p
        r, k = linear_sum_assignment(d)
        assigned = d[r, k]
        cost += assigned.sum()
        cost += (c ** p / 2) * (len(X) + len(Y) - 2 * len(r))
    else:
        cost += (c ** p / 2) * (len(X) + len(Y))
    return cost ** (1.0 / p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("plots")
    ap.add_argument("tracks")
    ap.add_argument("--cutoff", type=float, required=True)
    ap.add_argument("--max-speed", type=float, default=4000.0)
    ap.add_argument("--accel", type=float, default=10.0)
    ap.add_argument("--sigma-floor", type=float, default=0.05)
    ap.add_argument("--range-cell", type=float, required=True)
    ap.add_argument("--beamwidth-az", type=float, required=True)
    ap.add_argument("--beamwidth-el", type=float, required=True, help="0: not measured")
    ap.add_argument("--el-sigma-unmeasured", type=float, default=5.0)
    ap.add_argument("--gate", type=float, default=0.999)
    a = ap.parse_args()

    with h5py.File(a.capture, "r") as f:
        tr = f["truth"]
        truth = {
            "t": tr["time_s"][:], "id": tr["target_id"][:], "p": tr["position_enu_m"][:],
        }
    times = sorted(set(np.round(truth["t"], 6)))

    # Stone Soup on the plots.
    plots = read_csv(a.plots)
    by_time = {}
    for row in plots:
        by_time.setdefault(float(row["time_s"]), []).append(row)
    q = a.accel ** 2
    trans = CombinedLinearGaussianTransitionModel([ConstantVelocity(q)] * 3)
    t0 = float(plots[0]["time_s"]) if plots else 0.0

    def meas_model(row):
        snr = max(1.0, 10 ** (float(row["snr_db"]) / 10))
        rel = math.sqrt(1 / (2 * snr) + a.sigma_floor ** 2)
        s_r = a.range_cell * rel
        s_b = math.radians(a.beamwidth_az * rel)
        s_e = math.radians(a.beamwidth_el * rel if a.beamwidth_el > 0 else a.el_sigma_unmeasured)
        return CartesianToElevationBearingRange(
            ndim_state=6, mapping=(0, 2, 4), noise_covar=np.diag([s_e ** 2, s_b ** 2, s_r ** 2]))

    scans = []
    for t in sorted(by_time):
        ts = EPOCH + datetime.timedelta(seconds=t - t0)
        dets = set()
        for row in by_time[t]:
            el = math.radians(float(row["elevation_deg"]))
            brg = math.radians(90.0 - float(row["azimuth_deg"]))  # from east, counter-clockwise
            dets.add(Detection(np.array([[el], [brg], [float(row["range_m"])]]), timestamp=ts,
                               measurement_model=meas_model(row)))
        scans.append((ts, dets))

    predictor = ExtendedKalmanPredictor(trans)
    updater = ExtendedKalmanUpdater(measurement_model=None)
    gate = chi2.ppf(a.gate, 3)
    hyp = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=math.sqrt(gate))
    assoc = GNNWith2DAssignment(hyp)
    sv2 = a.max_speed ** 2 / 3
    prior = GaussianState(np.zeros((6, 1)), np.diag([0, sv2, 0, sv2, 0, sv2]))
    init = MultiMeasurementInitiator(prior, deleter=UpdateTimeStepsDeleter(3), data_associator=assoc,
                                     updater=updater, min_points=3)
    tracker = MultiTargetTracker(initiator=init, deleter=UpdateTimeStepsDeleter(3),
                                 detector=scans, data_associator=assoc, updater=updater)
    ss_at = {}
    for ts, tracks in tracker:
        key = round((ts - EPOCH).total_seconds() + t0, 6)
        ss_at[key] = [np.asarray(tk.state_vector).ravel()[[0, 2, 4]] for tk in tracks]

    # radarflow rows: a track exists between its rows (a dwell whose beams do
    # not cover it writes none), so at each dwell every live confirmed or
    # coasting track is scored at its last row, moved on with its velocity.
    rows = sorted(read_csv(a.tracks), key=lambda r: float(r["time_s"]))
    g_rf, g_ss = [], []
    last, k = {}, 0
    for t in times:
        while k < len(rows) and float(rows[k]["time_s"]) <= t + 1e-6:
            last[rows[k]["track_id"]] = rows[k]
            k += 1
        est = []
        for r in last.values():
            if r["status"] not in ("confirmed", "coasting"):
                continue
            dt = t - float(r["time_s"])
            est.append([float(r["east_m"]) + dt * float(r["v_east_mps"]),
                        float(r["north_m"]) + dt * float(r["v_north_mps"]),
                        float(r["up_m"]) + dt * float(r["v_up_mps"])])
        X = [truth["p"][i] for i in range(len(truth["t"])) if abs(truth["t"][i] - t) < 1e-6]
        g_rf.append(gospa(X, est, a.cutoff))
        g_ss.append(gospa(X, ss_at.get(round(t, 6), []), a.cutoff))
    m_rf, m_ss = float(np.mean(g_rf)), float(np.mean(g_ss))
    print(f"GOSPA (p=2, c={a.cutoff:g} m, alpha=2), mean over {len(times)} dwells: "
          f"radarflow {m_rf:.1f} m, Stone Soup GNN+EKF {m_ss:.1f} m")
    return 0 if m_rf <= m_ss else 1


if __name__ == "__main__":
    sys.exit(main())
