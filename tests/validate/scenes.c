/* radarflow validate: scenario files for the project's simulator, the
 * engine runs and plot comparison. */
#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../datasets/rf_sim.h"
#include "../../host/rf_cl.h"

void vr_note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("validate: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Tangent FM (a standard NLFM): instantaneous frequency (B/2) tan(b x) /
 * tan(b), x = 2 t / T - 1, b = 1.25; phase 2 pi T B (ln cos b - ln cos(b x))
 * / (4 b tan b), sampled at t = m / fs. The taper is in the frequency
 * sweep: no amplitude taper is needed for low range sidelobes. */
double vr_nlfm_phase_deg(int m) {
  const double b = 1.25, T = VR_T_S, t = m / VR_FS_HZ, x = 2.0 * t / T - 1.0;
  double ph = 2.0 * RF_PI * T * VR_B_HZ * (log(cos(b)) - log(cos(b * x))) / (4.0 * b * tan(b));
  return ph * 180.0 / RF_PI;
}

int vr_simulate(vr_ctx *v, const vr_scene *s, unsigned seed, char *path, size_t len) {
  char ini[1200];
  snprintf(ini, sizeof ini, "%s/%s.ini", v->scenedir, s->name);
  snprintf(path, len, "%s/%s.h5", v->capdir, s->name);
  FILE *f = fopen(ini, "w");
  if (!f) return rf__err(RF_EIO, "%s: cannot write", ini);
  fprintf(f, "; radarflow validate scene %s (written by tests/validate)\n", s->name);
  fprintf(f, "[radar]\nname = validate %s\nsite_latitude_deg = 52\nsite_longitude_deg = 4\nsite_altitude_m = 0\n"
             "center_frequency_hz = %.17g\n\n", s->name, VR_FC_HZ);
  if (s->custom) {
    fprintf(f, "[waveform]\ntype = custom\nbandwidth_hz = %.17g\nchip_samples = 1\nphase_code_deg = ", VR_B_HZ);
    for (int m = 0; m < VR_M; m++) fprintf(f, "%s%.12g", m ? (m % 6 ? ", " : ",\n    ") : "", vr_nlfm_phase_deg(m));
    fprintf(f, "\n");
  } else {
    fprintf(f, "[waveform]\ntype = lfm\nbandwidth_hz = %.17g\npulse_width_s = %.17g\n", VR_B_HZ, VR_T_S);
  }
  fprintf(f, "sample_rate_hz = %.17g\npri_s = %.17g\nrange_gate_delay_s = %.17g\nsamples = %zu\n\n", VR_FS_HZ,
          s->pri_s, s->rgd_s, s->samples);
  fprintf(f, "[array]\nlayout = ula\nelements = %d\nface_azimuth_deg = %.17g\n\n", s->elements, s->azimuth_deg);
  fprintf(f, "[scan]\ndwells = %d\npulses_per_dwell = %d\nazimuth_deg = %.17g\nelevation_deg = 0\n"
             "start_time_s = 1.7e9\ndwell_gap_s = %.17g\n", s->dwells, s->pulses, s->azimuth_deg, s->dwell_gap_s);
  if (s->tx_beamwidth_az_deg > 0) fprintf(f, "tx_beamwidth_az_deg = %.17g\n", s->tx_beamwidth_az_deg);
  fprintf(f, "\n[noise]\nenabled = %s\nsample_type = %s\n%s\n", s->noise ? "true" : "false",
          s->int16 ? "int16" : "float32", s->int16 ? "noise_lsb = 8" : "");
  fprintf(f, "[clutter]\nenabled = false\n\n");
  for (int i = 0; i < s->ntargets; i++) {
    const vr_target *t = &s->targets[i];
    fprintf(f, "[target t%d]\nrange_m = %.17g\nazimuth_deg = %.17g\nelevation_deg = 0\nradial_velocity_mps = %.17g\n"
               "snr_db = %.17g\nswerling = %d\n\n", i + 1, t->range_m, t->azimuth_deg, t->radial_velocity_mps,
            t->snr_db, t->swerling);
  }
  if (fclose(f)) return rf__err(RF_EIO, "%s: cannot write", ini);
  rf_scenario *sc = NULL;
  int st = rf_scenario_load(&sc, ini);
  if (!st) st = rf_simulate(sc, path, seed);
  rf_scenario_destroy(sc);
  return st;
}

int vr_run(const char *capture, const rf_config *cfg, const char *device, rf_plot_list *plots, rf_engine_times *times) {
  rf_capture *cap = NULL;
  rf_engine *e = NULL;
  rf_cl *cl = NULL;
  int st = rf_capture_open(&cap, capture);
  if (st) return st;
  if (!strcmp(device, "cpu")) {
    st = rf_engine_create_cpu(&e, cfg, cap);
  } else {
    rf_cl_device_info info;
    if (!(st = rf_cl_select(device, &info)) && !(st = rf_cl_create(&cl, &info))) st = rf_engine_create_cl(&e, cl, cfg, cap);
  }
  const rf_capture_meta *m = rf_capture_get_meta(cap);
  for (size_t d = 0; !st && d < m->dwells; d++) st = rf_engine_dwell(e, d, plots);
  if (!st) st = rf_engine_finish(e, plots);
  if (!st && times) *times = *rf_engine_get_times(e);
  rf_engine_destroy(e);
  rf_cl_destroy(cl);
  rf_capture_close(cap);
  return st;
}

int vr_same_plots(const rf_plot_list *a, const rf_plot_list *b, double cell_m, double bin_mps, double *worst) {
  *worst = 0;
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++) {
    const rf_plot *p = &a->v[i], *q = &b->v[i];
    double e[4] = {fabs(p->range_m - q->range_m) / cell_m, fabs(p->radial_velocity_mps - q->radial_velocity_mps) / bin_mps,
                   fabs(rf_wrap(p->azimuth_deg - q->azimuth_deg, 180.0)), fabs(p->snr_db - q->snr_db)};
    if (p->dwell != q->dwell) return 0;
    for (int k = 0; k < 4; k++) {
      if (e[k] > *worst) *worst = e[k];
      if (!(e[k] <= 1e-3)) return 0;
    }
  }
  return 1;
}
