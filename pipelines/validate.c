/* radarflow: what a run checks after the capture is open and before its
 * first dwell (rf_pipeline.h): the settings against the capture's maps, the
 * dwell count, the files the capture reads against the output folder, and
 * the memory the engine will allocate against run.memory_mb. */
#include "rf_pipeline.h"
#include "../host/rf_files.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Per-thread tile of the beamformer (host/beamform.c RF_BF_TILE). */
#define RF__BF_TILE 256
/* Hits kept per beam and dwell (pipelines/engine.c RF__MAX_HITS_PER_BEAM). */
#define RF__MAX_HITS_PER_BEAM 65536

/* The memory limit in bytes of this process's cgroup (v2, else v1), or 0. */
static uint64_t rf__cgroup_limit(void) {
  char line[4096], p[4200];
  uint64_t lim = 0;
  FILE *f = fopen("/proc/self/cgroup", "r");
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "0::", 3)) continue;
    line[strcspn(line, "\n")] = 0;
    snprintf(p, sizeof p, "/sys/fs/cgroup%s/memory.max", line + 3);
    FILE *g = fopen(p, "r");
    unsigned long long v;
    if (g && fscanf(g, "%llu", &v) == 1) lim = v;
    if (g) fclose(g);
  }
  if (f) fclose(f);
  if (!lim) {
    FILE *g = fopen("/sys/fs/cgroup/memory/memory.limit_in_bytes", "r");
    unsigned long long v;
    if (g && fscanf(g, "%llu", &v) == 1 && v < ((uint64_t)1 << 60)) lim = v;
    if (g) fclose(g);
  }
  return lim;
}

uint64_t rf_memory_budget_bytes(const rf_config *cfg) {
  if (cfg->memory_mb > 0) return (uint64_t)cfg->memory_mb << 20;
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  uint64_t mem = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : (uint64_t)4 << 30;
  uint64_t cg = rf__cgroup_limit();
  if (cg && cg < mem) mem = cg;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (uint64_t)rl.rlim_cur < mem)
    mem = (uint64_t)rl.rlim_cur;
  return mem / 4 * 3;
}

/* Receive beams of the fan (host/fan.c) as rf_fan_create counts them: as
 * set, else the most any dwell's transmit beam needs; one elevation row for
 * an array without elevation aperture; a beam a channel in per-channel
 * mode. Consecutive dwells of one direction are counted once. */
static size_t rf__beams(const rf_capture_meta *m, const rf_config *cfg) {
  rf_fan_config fc;
  rf_fan_extent x;
  rf_engine_fan_config(m, cfg, &fc);
  if (fc.per_channel) return m->channels;
  size_t baz = 1, bel = 1;
  for (size_t d = 0; d < m->dwells; d++) {
    if (d && m->azimuth_deg[d] == m->azimuth_deg[d - 1] && m->elevation_deg[d] == m->elevation_deg[d - 1] &&
        (!fc.tx_beamwidth_az_deg || fc.tx_beamwidth_az_deg[d] == fc.tx_beamwidth_az_deg[d - 1]) &&
        (!fc.tx_beamwidth_el_deg || fc.tx_beamwidth_el_deg[d] == fc.tx_beamwidth_el_deg[d - 1]))
      continue;
    rf_fan_extent_at(&fc, d, &x);
    if (x.beams_az > baz) baz = x.beams_az;
    if (x.beams_el > bel) bel = x.beams_el;
  }
  rf_fan_extent_at(&fc, 0, &x);
  if (!(x.beamwidth_el_deg > 0)) bel = 1;
  return baz * bel;
}

void rf_process_memory_estimate(const rf_capture_meta *m, const rf_config *cfg, rf_memory_estimate *e) {
  memset(e, 0, sizeof *e);
  size_t maxp = 0, nlen = 0;
  uint8_t seen[RF_MAX_PULSES_PER_DWELL / 8 + 1];
  memset(seen, 0, sizeof seen);
  for (size_t d = 0; d < m->dwells; d++) {
    size_t p = (size_t)m->num_pulses[d];
    if (p > maxp) {
      maxp = p;
      e->dwell = d;
    }
    /* Distinct lengths: each has its Doppler plan and CFAR tables. */
    if (p <= RF_MAX_PULSES_PER_DWELL && !(seen[p / 8] & (1u << (p % 8)))) {
      seen[p / 8] |= (uint8_t)(1u << (p % 8));
      nlen++;
    }
  }
  const double N = (double)m->channels, S = (double)m->samples, P = (double)maxp;
  const double B = (double)rf__beams(m, cfg), K = (double)rf_pipeline_bins(cfg, maxp);
  const double T = (double)(cfg->threads > 0 ? cfg->threads : omp_get_max_threads());
  const double pair = (double)rf_sample_pair_bytes(m->sample_type);
  double per_pulse = N * S * (pair + 8), bp = (double)((uint64_t)cfg->block_mb << 20) / (per_pulse > 0 ? per_pulse : 1);
  bp = bp < 1 ? 1 : bp > P ? P : (double)(size_t)bp;
  double L = (double)rf_pc_fft_len(m->samples, m->reference_len);
  double hits = K * S < RF__MAX_HITS_PER_BEAM ? K * S : RF__MAX_HITS_PER_BEAM;
  e->pulses = maxp;
  e->beams = (size_t)B;
  e->bins = (size_t)K;
  e->raw = bp * N * S * pair;
  e->rows = bp * N * S * 8;
  e->cube = B * P * S * 8;
  e->power = B * K * S * 4;
  e->hits = B * hits * sizeof(rf_cfar_hit);
  e->fft = (1 + T) * L * 8 + T * B * RF__BF_TILE * 8 + N * 8;
  e->doppler = (double)nlen * K * S * 8;
  e->cfar = (double)nlen * 4 * (S + 1) * 8;
  e->meta = (double)m->pulses * 8 + (double)m->dwells * 64 + N * 40;
  e->total = e->raw + e->rows + e->cube + e->power + e->hits + e->fft + e->doppler + e->cfar + e->meta;
}

static double rf__gib(double b) { return b / (1024.0 * 1024.0 * 1024.0); }

int rf_process_validate(const rf_capture *cap, const rf_config *cfg, const char *guard_dir) {
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  const char *path = rf_capture_path(cap);
  int st;
  if (m->dwells > RF_MAX_RUN_DWELLS)
    return rf__err(RF_ERANGE, "%s: /dwell: %zu dwells; a run takes at most %u (split the capture)", path, m->dwells,
                   (unsigned)RF_MAX_RUN_DWELLS);
  size_t minp = (size_t)-1, maxp = 0;
  for (size_t d = 0; d < m->dwells; d++) {
    size_t p = (size_t)m->num_pulses[d];
    if (p < minp) minp = p;
    if (p > maxp) maxp = p;
  }
  if ((st = rf_config_check(cfg)) ||
      (st = rf_config_check_maps(cfg, path, m->samples, minp, maxp, rf_pipeline_bins)))
    return st;
  /* The output folder is replaced whole: nothing the run reads may be in it. */
  if (guard_dir) {
    if (rf_path_within(guard_dir, path))
      return rf__err(RF_EINVAL, "%s: the input lies in the output folder %s, which radarflow replaces", path,
                     guard_dir);
    for (size_t i = 0; i < rf_capture_source_count(cap); i++)
      if (rf_path_within(guard_dir, rf_capture_source_path(cap, i)))
        return rf__err(RF_EINVAL, "%s: /iq reads %s, which lies in the output folder %s that radarflow replaces", path,
                       rf_capture_source_path(cap, i), guard_dir);
  }
  rf_memory_estimate e;
  rf_process_memory_estimate(m, cfg, &e);
  uint64_t budget = rf_memory_budget_bytes(cfg);
  if (e.total > (double)budget)
    return rf__err(RF_ERANGE,
                   "%s: dwell %zu (%zu pulses x %zu channels x %zu samples, %zu beams, %zu Doppler bins) needs "
                   "about %.2f GiB (range-pulse cube %.2f GiB, power maps %.2f GiB, sample blocks %.2f GiB, other "
                   "%.2f GiB), more than the memory budget run.memory_mb = %llu MiB%s",
                   path, e.dwell, e.pulses, m->channels, m->samples, e.beams, e.bins, rf__gib(e.total),
                   rf__gib(e.cube), rf__gib(e.power), rf__gib(e.raw + e.rows),
                   rf__gib(e.total - e.cube - e.power - e.raw - e.rows), (unsigned long long)(budget >> 20),
                   cfg->memory_mb > 0 ? "" : " (3/4 of this machine's memory)");
  return 0;
}
