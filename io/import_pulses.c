/* radarflow io/: pulses and dwells of an import, shared by the SigMF and
 * layout readers: cutting pulses from a continuous recording (a PRI grid
 * or listed transmit instants, then a range gate), and grouping pulses
 * into dwells with their beam directions. */
#include "import_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rf_capture.h"

void rf__imp_source_free(rf__imp_source *s) {
  for (size_t i = 0; i < s->narr; i++)
    if (s->arr[i].type > 0) H5Tclose(s->arr[i].type);
  rf__free(s->arr);
  rf__free(s->pulses.start);
  rf__free(s->pulses.group);
  rf__free(s->pulse_time_s);
  rf__free(s->first_pulse);
  rf__free(s->num_pulses);
  rf__free(s->azimuth_deg);
  rf__free(s->elevation_deg);
  rf__free(s->tx_bw_az_deg);
  rf__free(s->tx_bw_el_deg);
  memset(s, 0, sizeof *s);
}

int rf__imp_add_pulse(rf__imp_source *s, int64_t start, uint32_t g, double time_s) {
  rf__imp_pulses *pl = &s->pulses;
  if (pl->n >= RF_MAX_PULSES)
    return rf__err(RF_EFORMAT, "import: more than %u pulses (the capture reader's limit)", (unsigned)RF_MAX_PULSES);
  if (pl->n == s->pcap) {
    size_t nc = s->pcap ? 2 * s->pcap : 1024;
    int64_t *ns = rf__realloc(pl->start, nc * sizeof *ns);
    if (ns) pl->start = ns;
    uint32_t *ng = ns ? rf__realloc(pl->group, nc * sizeof *ng) : NULL;
    if (ng) pl->group = ng;
    double *nt = ng ? rf__realloc(s->pulse_time_s, nc * sizeof *nt) : NULL;
    if (nt) s->pulse_time_s = nt;
    if (!nt) return rf__err(RF_ENOMEM, "import: out of memory");
    s->pcap = nc;
  }
  pl->start[pl->n] = start;
  pl->group[pl->n] = g;
  s->pulse_time_s[pl->n] = time_s;
  pl->n++;
  return 0;
}

int rf__imp_cut_time(const rf__facts *f, rf__imp_source *s, int64_t seg_start, int64_t seg_len,
                     int64_t axis_base, const int64_t *tx, size_t ntx, uint32_t g, double t0_s,
                     double fs_hz, const char *where) {
  int64_t gate = 0, samples = 0, first = 0, count = 0;
  int has_s = 0, has_count = 0, has_gate = 0, st;
  if ((st = rf__facts_int(f, "pulses", "gate_samples", 0, (double)RF_MAX_SAMPLES * 64, &gate, &has_gate)))
    return st;
  if ((st = rf__facts_int(f, "pulses", "samples", 1, RF_MAX_SAMPLES, &samples, &has_s))) return st;
  if ((st = rf__facts_int(f, "pulses", "count", 1, RF_MAX_PULSES, &count, &has_count))) return st;
  int64_t step = 0;
  if (!tx) {
    double pri_s;
    int has_first = 0, has_pri = 0;
    if ((st = rf__facts_num(f, "waveform", "pri_s", 1e-12, 1e6, &pri_s, &has_pri))) return st;
    if (!has_pri)
      return rf__fact_missing(f, "waveform", "pri_s", "(pulses are cut on a PRI grid: SigMF radarflow:pri_s, or "
                              "give the transmit instants: pulse annotations or [pulses] transmit_samples)");
    double p = pri_s * fs_hz;
    if (!(p >= 1 && p < 9e15) || fabs(p - round(p)) > 1e-6 * (p > 1 ? 1 : p))
      return rf__fact_err(rf__facts_get(f, "waveform", "pri_s"),
                          "pri_s x sample rate = %.9g samples is not a whole number: pulses are cut at "
                          "whole samples (give the transmit instants instead: SigMF pulse annotations or "
                          "[pulses] transmit_samples)", p);
    step = (int64_t)round(p);
    if ((st = rf__facts_int(f, "pulses", "first_transmit_sample", -9e15, 9e15, &first, &has_first))) return st;
  }
  if (!has_s) {
    /* All the samples up to the next pulse. */
    int64_t gap = step;
    if (tx) {
      gap = 0;
      for (size_t i = 1; i < ntx; i++)
        if (tx[i] - tx[i - 1] > 0 && (gap == 0 || tx[i] - tx[i - 1] < gap)) gap = tx[i] - tx[i - 1];
      if (gap == 0) gap = seg_start + seg_len - (ntx ? tx[0] : 0);
    }
    samples = gap - gate;
    if (samples < 1)
      return rf__err(RF_EFORMAT, "%s: [pulses] gate_samples %lld leaves no samples before the next pulse "
                     "(%lld samples apart); give [pulses] samples",
                     f->where, (long long)gate, (long long)gap);
    if (samples > RF_MAX_SAMPLES) samples = RF_MAX_SAMPLES;
  }
  /* A pulse's window must end before the next pulse is transmitted. */
  const rf__fact *ws = rf__facts_get(f, "pulses", has_s ? "samples" : "gate_samples");
  if (!tx && gate + samples > step)
    return ws ? rf__fact_err(ws, "gate %lld + %lld samples run past the next pulse (%lld samples later)",
                             (long long)gate, (long long)samples, (long long)step)
              : rf__err(RF_EFORMAT, "%s: the PRI is shorter than the samples per pulse", where);
  for (size_t i = 1; tx && i < ntx; i++)
    if (tx[i] - tx[i - 1] < gate + samples)
      return rf__err(RF_EFORMAT, "%s: pulses %zu and %zu are %lld samples apart, less than gate %lld + %lld "
                     "samples (windows would overlap the next pulse)", where, i - 1, i,
                     (long long)(tx[i] - tx[i - 1]), (long long)gate, (long long)samples);
  if (s->pulses.n && s->pulses.samples != (size_t)samples)
    return rf__err(RF_EFORMAT, "%s: pulses of %lld samples here but %zu before: every pulse must have the "
                   "same length", where, (long long)samples, s->pulses.samples);
  s->pulses.samples = (size_t)samples;
  int64_t end = seg_start + seg_len;
  for (size_t j = 0;; j++) {
    if (has_count && s->pulses.n >= (size_t)count) break;
    int64_t t;
    if (tx) {
      if (j >= ntx) break;
      t = tx[j];
      if (t + gate < seg_start || t + gate + samples > end)
        return rf__err(RF_EFORMAT, "%s: pulse %zu (transmit at sample %lld) does not fit its stretch of the "
                       "recording [%lld, %lld) with gate %lld and %lld samples",
                       where, j, (long long)t, (long long)seg_start, (long long)end, (long long)gate,
                       (long long)samples);
    } else {
      t = seg_start + first + (int64_t)j * step;
      if (t + gate + samples > end) break;
      if (t + gate < seg_start) continue;
    }
    if ((st = rf__imp_add_pulse(s, t + gate - axis_base, g, t0_s + (double)(t - seg_start) / fs_hz))) return st;
  }
  return 0;
}

/* A list fact cycled over n entries into out[n]; *has = 0 when absent. */
static int rf__cycled(const rf__facts *f, const char *key, double lo, double hi, size_t n, double *out,
                      int *has) {
  double *v = NULL;
  size_t k = 0;
  int st = rf__facts_list(f, "dwell", key, &v, &k);
  *has = 0;
  if (st || !v) return st;
  for (size_t i = 0; i < k; i++)
    if (!(v[i] >= lo && v[i] <= hi)) {
      st = rf__fact_err(rf__facts_get(f, "dwell", key), "item %zu (%g) is outside [%g, %g]", i + 1, v[i], lo, hi);
      rf__free(v);
      return st;
    }
  for (size_t i = 0; i < n; i++) out[i] = v[i % k];
  rf__free(v);
  *has = 1;
  return 0;
}

int rf__imp_dwells(const rf__facts *f, rf__imp_source *s, const uint32_t *seg_of) {
  const size_t np = s->pulses.n;
  double *first = NULL, *num = NULL, *ppd = NULL;
  size_t nf = 0, nn = 0, nppd = 0;
  int st = 0;
  if (s->dwells == 0) {
    if ((st = rf__facts_list(f, "dwell", "first_pulse", &first, &nf)) ||
        (st = rf__facts_list(f, "dwell", "num_pulses", &num, &nn)))
      goto cleanup;
    if ((first != NULL) != (num != NULL) || nf != nn) {
      st = rf__err(RF_EFORMAT, "%s: [dwell] first_pulse and num_pulses go together, one value per dwell "
                   "(%zu and %zu given)", f->where, nf, nn);
      goto cleanup;
    }
    size_t cap = first ? nf : np;
    s->first_pulse = rf__malloc((cap ? cap : 1) * sizeof *s->first_pulse);
    s->num_pulses = rf__malloc((cap ? cap : 1) * sizeof *s->num_pulses);
    if (!s->first_pulse || !s->num_pulses) goto nomem;
    if (first) {
      const rf__fact *e = rf__facts_get(f, "dwell", "first_pulse");
      for (size_t d = 0; d < nf; d++) {
        if (first[d] != floor(first[d]) || num[d] != floor(num[d]) || first[d] < 0 || num[d] < 1 ||
            num[d] > RF_MAX_PULSES_PER_DWELL || first[d] + num[d] > (double)np) {
          st = rf__fact_err(e, "dwell %zu: pulses %g .. %g + %g are not whole pulses within the %zu cut", d,
                            first[d], first[d], num[d], np);
          goto cleanup;
        }
        s->first_pulse[d] = (int64_t)first[d];
        s->num_pulses[d] = (int32_t)num[d];
      }
      s->dwells = nf;
    } else {
      if ((st = rf__facts_list(f, "dwell", "pulses", &ppd, &nppd))) goto cleanup;
      if (!ppd) {
        st = rf__fact_missing(f, "dwell", "pulses",
                              "(pulses per dwell; SigMF: radarflow:pulses_per_dwell, or pulse annotations "
                              "with radarflow:dwell)");
        goto cleanup;
      }
      for (size_t i = 0; i < nppd; i++)
        if (ppd[i] != floor(ppd[i]) || ppd[i] < 1 || ppd[i] > RF_MAX_PULSES_PER_DWELL) {
          st = rf__fact_err(rf__facts_get(f, "dwell", "pulses"), "item %zu (%g) is not a whole number of "
                            "pulses in [1, %d]", i + 1, ppd[i], RF_MAX_PULSES_PER_DWELL);
          goto cleanup;
        }
      size_t p = 0, d = 0;
      while (p < np) {
        size_t k = (size_t)ppd[d % nppd];
        if (p + k > np) break;
        /* A dwell never spans two stretches of a recording. */
        size_t cut = 0;
        for (size_t i = 1; seg_of && i < k && !cut; i++)
          if (seg_of[p + i] != seg_of[p]) cut = i;
        if (cut) {
          p += cut;
          continue;
        }
        s->first_pulse[d] = (int64_t)p;
        s->num_pulses[d] = (int32_t)k;
        d++;
        p += k;
      }
      s->dwells = d;
    }
  }
  if (s->dwells == 0) {
    st = rf__err(RF_EFORMAT, "%s: no whole dwell in the recording (%zu pulses cut)", f->where, np);
    goto cleanup;
  }
  if (s->dwells > RF_MAX_DWELLS) {
    st = rf__err(RF_EFORMAT, "%s: %zu dwells exceed the reader's limit %u", f->where, s->dwells,
                 (unsigned)RF_MAX_DWELLS);
    goto cleanup;
  }
  size_t n = s->dwells, used = 0;
  for (size_t d = 0; d < n; d++) used += (size_t)s->num_pulses[d];
  if (used < np) {
    size_t k = strlen(s->notes);
    snprintf(s->notes + k, sizeof s->notes - k, "%s%zu of %zu pulses are in no dwell", k ? "; " : "", np - used, np);
  }
  /* Directions, unless the reader of the source set them already. */
  if (!s->azimuth_deg) {
    int has_az = 0, has_el = 0, has_ta = 0, has_te = 0;
    s->azimuth_deg = rf__malloc(n * sizeof *s->azimuth_deg);
    s->elevation_deg = rf__malloc(n * sizeof *s->elevation_deg);
    s->tx_bw_az_deg = rf__malloc(n * sizeof *s->tx_bw_az_deg);
    s->tx_bw_el_deg = rf__malloc(n * sizeof *s->tx_bw_el_deg);
    if (!s->azimuth_deg || !s->elevation_deg || !s->tx_bw_az_deg || !s->tx_bw_el_deg) goto nomem;
    if ((st = rf__cycled(f, "azimuth_deg", -720, 720, n, s->azimuth_deg, &has_az)) ||
        (st = rf__cycled(f, "elevation_deg", -90, 90, n, s->elevation_deg, &has_el)) ||
        (st = rf__cycled(f, "tx_beamwidth_az_deg", 1e-6, 360, n, s->tx_bw_az_deg, &has_ta)) ||
        (st = rf__cycled(f, "tx_beamwidth_el_deg", 1e-6, 180, n, s->tx_bw_el_deg, &has_te)))
      goto cleanup;
    if (!has_az) {
      double face;
      int has_face = 0;
      if ((st = rf__facts_num(f, "array", "face_azimuth_deg", -360, 360, &face, &has_face))) goto cleanup;
      if (!has_face && !s->az_later) {
        st = rf__fact_missing(f, "dwell", "azimuth_deg", "(transmit azimuth of each dwell, cycled; SigMF: "
                              "radarflow:azimuth_deg)");
        goto cleanup;
      }
      for (size_t d = 0; d < n; d++) s->azimuth_deg[d] = has_face ? face : NAN;
    }
    if (!has_el)
      for (size_t d = 0; d < n; d++) s->elevation_deg[d] = 0;
    if (!has_ta) {
      rf__free(s->tx_bw_az_deg);
      s->tx_bw_az_deg = NULL;
    }
    if (!has_te) {
      rf__free(s->tx_bw_el_deg);
      s->tx_bw_el_deg = NULL;
    }
  }
  goto cleanup;
nomem:
  st = rf__err(RF_ENOMEM, "import: out of memory");
cleanup:
  rf__free(first);
  rf__free(num);
  rf__free(ppd);
  return st;
}
