/* Track files (io/rf_tracks.h): HDF5 and CSV round trips, the exact CSV
 * header, the HDF5 enum status, atomic writes; plots.h5 sensor attributes
 * (io/rf_products.h extension). */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../io/rf_tracks.h"
#include "../pipelines/rf_tracker.h"
#include "rf_testutil.h"
#include "rf_tolerances.h"

static const char tracks_header[] =
    "time_s,track_id,status,east_m,north_m,up_m,v_east_mps,v_north_mps,v_up_mps,range_m,azimuth_deg,"
    "elevation_deg,radial_velocity_mps,latitude_deg,longitude_deg,altitude_m,pos_sigma_m,plots,"
    "time_to_go_s,impact_time_s,impact_latitude_deg,impact_longitude_deg,imm_cv_prob,imm_manoeuvre_prob,"
    "imm_ballistic_prob";

static void make_rows(rf_track_row *r, size_t n) {
  uint64_t seed = 7;
  for (size_t i = 0; i < n; i++) {
    double *d = &r[i].east_m;
    memset(&r[i], 0, sizeof r[i]);
    r[i].time_s = 1.7e9 + 0.1 * (double)i + 1e-7;
    r[i].track_id = (int32_t)(i / 3 + 1);
    r[i].status = (int32_t)(i % 4);
    for (int k = 0; k < 13; k++) d[k] = (rf_test_uniform(&seed) - 0.5) * 1e5 / 3.0;
    r[i].pos_sigma_m = 12.5;
    r[i].plots = (int32_t)i;
    r[i].time_to_go_s = i % 2 ? NAN : 123.456789;
    r[i].impact_time_s = i % 3 ? NAN : 1.7e9 + 100;
    r[i].impact_latitude_deg = i % 3 ? NAN : 54.1;
    r[i].impact_longitude_deg = i % 3 ? NAN : -0.5;
    r[i].imm_cv_prob = rf_test_uniform(&seed), r[i].imm_manoeuvre_prob = (1 - r[i].imm_cv_prob) / 3;
    r[i].imm_ballistic_prob = 1 - r[i].imm_cv_prob - r[i].imm_manoeuvre_prob;
  }
}

/* Equal, with NaN equal to NaN. */
static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Decimals of the CSV's doubles, as docs/formats.md states them: east_m ..
 * altitude_m (13 columns), then pos_sigma_m, time_to_go_s, impact_time_s,
 * impact_latitude_deg, impact_longitude_deg; time_s to 1e-6. */
static const int track_decimals[13] = {3, 3, 3, 3, 3, 3, 3, 7, 7, 3, 8, 8, 3};

/* Equal (HDF5: exact), or (csv) equal to the documented precision. */
static int close_to(double a, double b, int csv, int decimals) {
  return csv ? rf_test_csv_same(a, b, decimals) : same(a, b);
}

static void check_rows(const rf_track_row *a, const rf_track_row *b, size_t n, int csv) {
  for (size_t i = 0; i < n; i++) {
    ck_assert(close_to(a[i].time_s, b[i].time_s, csv, 6));
    ck_assert_int_eq(a[i].track_id, b[i].track_id);
    ck_assert_int_eq(a[i].status, b[i].status);
    ck_assert_int_eq(a[i].plots, b[i].plots);
    const double *x = &a[i].east_m, *y = &b[i].east_m;
    for (int k = 0; k < 13; k++)
      ck_assert_msg(close_to(x[k], y[k], csv, track_decimals[k]), "row %zu column %d: %.17g read %.17g", i, k, x[k],
                    y[k]);
    ck_assert(close_to(a[i].pos_sigma_m, b[i].pos_sigma_m, csv, 3));
    ck_assert(close_to(a[i].time_to_go_s, b[i].time_to_go_s, csv, 3));
    ck_assert(close_to(a[i].impact_time_s, b[i].impact_time_s, csv, 3));
    ck_assert(close_to(a[i].impact_latitude_deg, b[i].impact_latitude_deg, csv, 7));
    ck_assert(close_to(a[i].impact_longitude_deg, b[i].impact_longitude_deg, csv, 7));
    ck_assert(close_to(a[i].imm_cv_prob, b[i].imm_cv_prob, csv, 6));
    ck_assert(close_to(a[i].imm_manoeuvre_prob, b[i].imm_manoeuvre_prob, csv, 6));
    ck_assert(close_to(a[i].imm_ballistic_prob, b[i].imm_ballistic_prob, csv, 6));
  }
}

START_TEST(tracks_round_trip) {
  char dir[512], h5[512], csv[512];
  rf_test_fresh_dir(dir, sizeof dir, "tracks_rt");
  rf_test_join(h5, sizeof h5, dir, "tracks.h5");
  rf_test_join(csv, sizeof csv, dir, "tracks.csv");
  enum { N = 17 };
  rf_track_row rows[N];
  make_rows(rows, N);
  rf_product_info info = {.source_path = "cap.h5", .radar_name = "radar", .site_latitude_deg = 54.36,
                          .site_longitude_deg = -0.67, .site_altitude_m = 260};
  ck_assert_int_eq(rf_tracks_write_h5(h5, rows, N, &info), 0);
  ck_assert_int_eq(rf_tracks_write_csv(csv, rows, N), 0);
  rf_track_list a = {0}, b = {0};
  ck_assert_int_eq(rf_tracks_read(h5, &a), 0);
  ck_assert_int_eq(rf_tracks_read(csv, &b), 0);
  ck_assert_uint_eq(a.n, N);
  ck_assert_uint_eq(b.n, N);
  check_rows(rows, a.v, N, 0);
  check_rows(rows, b.v, N, 1);
  rf_track_list_free(&a);
  rf_track_list_free(&b);

  /* CSV: exact header, status words. */
  size_t len;
  char *txt = rf_test_read_file(csv, &len);
  ck_assert_ptr_nonnull(txt);
  ck_assert(strncmp(txt, tracks_header, strlen(tracks_header)) == 0);
  ck_assert(txt[strlen(tracks_header)] == '\n');
  ck_assert_ptr_nonnull(strstr(txt, ",tentative,"));
  ck_assert_ptr_nonnull(strstr(txt, ",confirmed,"));
  ck_assert_ptr_nonnull(strstr(txt, ",coasting,"));
  ck_assert_ptr_nonnull(strstr(txt, ",deleted,"));
  free(txt);

  /* HDF5: /tracks compound, status an enum with the spec's values, the
   * columns in order. */
  hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  hid_t d = H5Dopen2(f, "tracks", H5P_DEFAULT), t = H5Dget_type(d);
  ck_assert_int_eq(H5Tget_class(t), H5T_COMPOUND);
  ck_assert_int_eq(H5Tget_nmembers(t), 25);
  const char *names[] = {"time_s", "track_id", "status", "east_m"};
  for (unsigned k = 0; k < 4; k++) {
    char *nm = H5Tget_member_name(t, k);
    ck_assert_str_eq(nm, names[k]);
    H5free_memory(nm);
  }
  hid_t st = H5Tget_member_type(t, 2);
  ck_assert_int_eq(H5Tget_class(st), H5T_ENUM);
  const char *words[] = {"tentative", "confirmed", "coasting", "deleted"};
  for (int v = 0; v < 4; v++) {
    char nm[32];
    int32_t val = v;
    ck_assert_int_ge(H5Tenum_nameof(st, &val, nm, sizeof nm), 0);
    ck_assert_str_eq(nm, words[v]);
  }
  H5Tclose(st);
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);

  /* The streaming writer: the same CSV bytes, the same HDF5 rows, rows
   * given in pieces. */
  char h5s[512], csvs[512];
  rf_test_join(h5s, sizeof h5s, dir, "s.h5");
  rf_test_join(csvs, sizeof csvs, dir, "s.csv");
  rf_tracks_writer *w;
  ck_assert_int_eq(rf_tracks_writer_create(&w, h5s, csvs, &info), 0);
  ck_assert_int_eq(rf_tracks_writer_add(w, rows, 5), 0);
  ck_assert_int_eq(rf_tracks_writer_add(w, rows + 5, 0), 0);
  ck_assert_int_eq(rf_tracks_writer_add(w, rows + 5, N - 5), 0);
  ck_assert_int_eq(rf_tracks_writer_commit(w), 0);
  size_t l1, l2;
  char *t1 = rf_test_read_file(csv, &l1), *t2 = rf_test_read_file(csvs, &l2);
  ck_assert_uint_eq(l1, l2);
  ck_assert(memcmp(t1, t2, l1) == 0);
  free(t1), free(t2);
  ck_assert_int_eq(rf_tracks_read(h5s, &a), 0);
  ck_assert_uint_eq(a.n, N);
  check_rows(rows, a.v, N, 0);
  rf_track_list_free(&a);
  /* Abort leaves nothing. */
  ck_assert_int_eq(rf_tracks_writer_create(&w, h5s, csvs, &info), 0);
  ck_assert_int_eq(rf_tracks_writer_add(w, rows, N), 0);
  size_t before = rf_test_count_entries(dir, NULL);
  rf_tracks_writer_abort(w);
  ck_assert_uint_eq(rf_test_count_entries(dir, NULL), before - 2);
  rf_tracks_writer_abort(NULL);
}
END_TEST

START_TEST(tracks_errors_and_atomic) {
  char dir[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "tracks_err");
  rf_track_row rows[4];
  make_rows(rows, 4);
  /* Unwritable target: RF_EIO naming the file, nothing left behind. */
  rf_test_join(p, sizeof p, dir, "missing/tracks.csv");
  ck_assert_int_eq(rf_tracks_write_csv(p, rows, 4), RF_EIO);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "tracks.csv"));
  rf_test_join(p, sizeof p, dir, "missing/tracks.h5");
  ck_assert_int_eq(rf_tracks_write_h5(p, rows, 4, NULL), RF_EIO);
  ck_assert_uint_eq(rf_test_count_entries(dir, NULL), 0);
  /* A bad CSV row names its line and column. */
  rf_test_join(p, sizeof p, dir, "bad.csv");
  FILE *fp = fopen(p, "w");
  fprintf(fp, "%s\n1,2,flying,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n", tracks_header);
  fclose(fp);
  rf_track_list l = {0};
  ck_assert_int_eq(rf_tracks_read(p, &l), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "line 2"));
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "status"));
  ck_assert_int_eq(rf_tracks_read("x.txt", &l), RF_EINVAL);
  /* No rows: a header-only CSV and a 0-row dataset read back empty. */
  rf_test_join(p, sizeof p, dir, "empty.h5");
  ck_assert_int_eq(rf_tracks_write_h5(p, NULL, 0, NULL), 0);
  ck_assert_int_eq(rf_tracks_read(p, &l), 0);
  ck_assert_uint_eq(l.n, 0);
  rf_track_list_free(&l);
}
END_TEST

/* The streaming writer over several HDF5 chunks, a write that fails part
 * way (file size limit: EFBIG, as a full disk gives ENOSPC) and every
 * allocation failing in turn: RF_EIO / RF_ENOMEM naming the file, nothing
 * left behind. The failing write runs in a child so the limit does not
 * outlive the test; its exit code names the first check that failed. */
#define RF_TEST_STREAM_ROWS 10000 /* more than two HDF5 chunks (4096 rows) */
#define RF_TEST_OOM_MAX_STEPS 200

/* Fails the 1st, 2nd, ... allocation of run(arg) until it succeeds: each
 * failure must be RF_ENOMEM and leave dir empty. The number of failures. */
static size_t oom_sweep(int (*run)(void *), void *arg, const char *dir) {
  size_t k, failures = 0;
  for (k = 1; k < RF_TEST_OOM_MAX_STEPS; k++) {
    rf_alloc_fail_after(k, 0);
    int st = run(arg);
    rf_alloc_fail_after(0, 0);
    if (st == 0) break;
    ck_assert_int_eq(st, RF_ENOMEM);
    ck_assert_uint_eq(rf_test_count_entries(dir, NULL), 0);
    failures++;
  }
  ck_assert_uint_lt(k, RF_TEST_OOM_MAX_STEPS);
  return failures;
}
static int stream_rows(const char *h5, const char *csv, const rf_track_row *rows, size_t n) {
  rf_tracks_writer *w;
  int st = rf_tracks_writer_create(&w, h5, csv, NULL);
  for (size_t i = 0; !st && i < n; i += 333) st = rf_tracks_writer_add(w, rows + i, n - i < 333 ? n - i : 333);
  if (st) {
    rf_tracks_writer_abort(w);
    return st;
  }
  return rf_tracks_writer_commit(w);
}

struct stream_args {
  const char *h5, *csv;
  const rf_track_row *rows;
  size_t n;
};
static int stream_run(void *p) {
  const struct stream_args *a = p;
  return stream_rows(a->h5, a->csv, a->rows, a->n);
}

START_TEST(tracks_stream_failures) {
  char dir[512], h5[512], csv[512];
  rf_test_fresh_dir(dir, sizeof dir, "tracks_stream");
  rf_test_join(h5, sizeof h5, dir, "tracks.h5");
  rf_test_join(csv, sizeof csv, dir, "tracks.csv");
  rf_track_row *rows = malloc(RF_TEST_STREAM_ROWS * sizeof *rows);
  ck_assert_ptr_nonnull(rows);
  make_rows(rows, RF_TEST_STREAM_ROWS);
  /* The child first: a fork may not use OpenMP once this process has
   * (the CSV stream prints on all threads). */
  int pid = rf_test_fork_fsize(64 << 10);
  if (pid == 0) {
    if (stream_rows(h5, csv, rows, RF_TEST_STREAM_ROWS) != RF_EIO) _exit(10);
    if (!strstr(rf_errmsg(), "cannot write") || !strstr(rf_errmsg(), dir)) _exit(11);
    if (rf_test_count_entries(dir, NULL) != 0) _exit(12);
    free(rows); /* LeakSanitizer checks the child's exit too */
    rf_test_child_exit(0);
  }
  rf_test_child_ok(pid);

  ck_assert_int_eq(stream_rows(h5, csv, rows, RF_TEST_STREAM_ROWS), 0);
  rf_track_list a = {0};
  ck_assert_int_eq(rf_tracks_read(h5, &a), 0);
  ck_assert_uint_eq(a.n, RF_TEST_STREAM_ROWS);
  check_rows(rows, a.v, RF_TEST_STREAM_ROWS, 0);
  ck_assert_int_eq(rf_tracks_read(csv, &a), 0);
  ck_assert_uint_eq(a.n, RF_TEST_STREAM_ROWS);
  check_rows(rows, a.v, RF_TEST_STREAM_ROWS, 1);
  rf_track_list_free(&a);
  remove(h5), remove(csv);

  struct stream_args sa = {h5, csv, rows, 5000};
  ck_assert_uint_ge(oom_sweep(stream_run, &sa, dir), 1);
  ck_assert_uint_eq(rf_test_count_entries(dir, NULL), 2);
  free(rows);
}
END_TEST

/* A scene for the tracker's products: `targets` aircraft flying straight
 * over `scans` 1 s scans, detection probability 0.9, plots with the sigmas
 * the tracker assumes, a few clutter plots a scan. */
static rf_plot *track_scene(size_t targets, size_t scans, const rf_config *cfg, const rf_track_sensor *s,
                            size_t *n) {
  rf_plot *p = malloc(scans * (targets + 10) * sizeof *p);
  double(*x)[6] = malloc(targets * sizeof *x);
  ck_assert(p && x);
  uint64_t seed = 11;
  for (size_t i = 0; i < targets; i++) {
    double r = 30e3 + 150e3 * rf_test_uniform(&seed), az = 2 * RF_PI * rf_test_uniform(&seed);
    double hd = 2 * RF_PI * rf_test_uniform(&seed), sp = 100 + 200 * rf_test_uniform(&seed);
    x[i][0] = r * sin(az), x[i][1] = r * cos(az), x[i][2] = 2e3 + 8e3 * rf_test_uniform(&seed);
    x[i][3] = sp * sin(hd), x[i][4] = sp * cos(hd), x[i][5] = 0;
  }
  *n = 0;
  for (size_t sc = 0; sc < scans; sc++) {
    for (size_t i = 0; i < targets + 10; i++) {
      double q[6], z[4];
      if (i < targets) {
        if (rf_test_uniform(&seed) > 0.9) continue;
        for (int k = 0; k < 3; k++) q[k] = x[i][k] + x[i][3 + k] * (double)sc, q[3 + k] = x[i][3 + k];
        rf_track_h(q, z);
      } else { /* clutter */
        z[0] = 30e3 + 150e3 * rf_test_uniform(&seed), z[1] = 360 * rf_test_uniform(&seed);
        z[2] = 0.5 + 3 * rf_test_uniform(&seed), z[3] = 600 * (rf_test_uniform(&seed) - 0.5);
      }
      rf_plot pl = {.time_s = 1.7e9 + (double)sc, .dwell = (int32_t)sc, .snr_db = 20, .range_m = z[0],
                    .azimuth_deg = z[1], .elevation_deg = z[2], .radial_velocity_mps = z[3]};
      rf_track_meas m;
      rf_track_meas_from_plot(s, cfg, &pl, &m);
      pl.range_m += m.sigma[0] * rf_test_gauss(&seed), pl.azimuth_deg += m.sigma[1] * rf_test_gauss(&seed);
      pl.elevation_deg += m.sigma[2] * rf_test_gauss(&seed);
      pl.radial_velocity_mps += m.sigma[3] * rf_test_gauss(&seed);
      double u[3];
      rf_direction(pl.azimuth_deg, pl.elevation_deg, u);
      pl.east_m = pl.range_m * u[0], pl.north_m = pl.range_m * u[1], pl.up_m = pl.range_m * u[2];
      p[(*n)++] = pl;
    }
  }
  free(x);
  return p;
}

/* got holds exactly want's rows, every column bit for bit. */
static void same_rows(const rf_track_list *want, const rf_track_list *got, int threads) {
  ck_assert_uint_eq(got->n, want->n);
  for (size_t i = 0; i < want->n; i++) {
    const rf_track_row *a = &want->v[i], *b = &got->v[i];
    ck_assert_msg(a->track_id == b->track_id && a->status == b->status && a->plots == b->plots, "row %zu", i);
    ck_assert(same(a->time_s, b->time_s));
    const double *u = &a->east_m, *v = &b->east_m; /* east_m .. altitude_m */
    for (int j = 0; j < 13; j++)
      ck_assert_msg(same(u[j], v[j]), "threads %d row %zu column %d: %.17g read %.17g", threads, i, j, u[j], v[j]);
    ck_assert(same(a->pos_sigma_m, b->pos_sigma_m) && same(a->time_to_go_s, b->time_to_go_s));
    ck_assert(same(a->impact_time_s, b->impact_time_s) && same(a->impact_latitude_deg, b->impact_latitude_deg) &&
              same(a->impact_longitude_deg, b->impact_longitude_deg));
    ck_assert(same(a->imm_cv_prob, b->imm_cv_prob) && same(a->imm_manoeuvre_prob, b->imm_manoeuvre_prob) &&
              same(a->imm_ballistic_prob, b->imm_ballistic_prob));
  }
}

/* The sensor of track_scene and the provenance its products record. */
static void scene_sensor(rf_track_sensor *s, rf_product_info *info) {
  *s = (rf_track_sensor){.range_cell_m = 30, .doppler_cell_mps = 1, .beamwidth_az_deg = 1, .beamwidth_el_deg = 1,
                         .site_latitude_deg = 52, .site_longitude_deg = 4.4, .site_altitude_m = 10};
  *info = (rf_product_info){.source_path = "scene", .radar_name = "scene", .site_latitude_deg = 52,
                            .site_longitude_deg = 4.4, .site_altitude_m = 10};
}

/* Each way of sharing the cores (pipelines/track_run.c): two threads, the
 * writer helps the tracker's loops while it waits; three, an OpenMP team
 * of two beside the writer; one, the tracker alone beside it. */
#ifdef _OPENMP
static const int share_threads[] = {2, 3, 1};
#else
static const int share_threads[] = {1};
#endif
#define SHARE_WAYS (sizeof share_threads / sizeof share_threads[0])

/* Runs with the threads of way m. */
static void share_use(size_t m) {
#ifdef _OPENMP
  omp_set_num_threads(share_threads[m]);
#else
  (void)m;
#endif
}

struct products_args {
  const rf_plot *plots;
  size_t n;
  const rf_config *cfg;
  const rf_track_sensor *s;
  const rf_product_info *info;
  const char *dir;
};
static int products_run(void *p) {
  const struct products_args *a = p;
  rf_track_counts c;
  return rf_track_products_counted(a->plots, a->n, a->cfg, a->s, a->info, a->dir, &c);
}

/* The track products are written on a thread of their own beside the
 * tracker (pipelines/track_run.c): tracks.h5 must hold exactly the rows the
 * tracker gives when run alone (rf_track_plots, no writer thread), in
 * order, through many reuses of the hand-over slots; a write failure on
 * that thread (a full disk mid-run) and an allocation failure anywhere
 * leave no file and are reported. */
START_TEST(track_products_threaded) {
  char dir[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "track_threaded");
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_track_sensor s;
  rf_product_info info;
  scene_sensor(&s, &info);
  size_t n;
  rf_plot *plots = track_scene(300, 60, &cfg, &s, &n);
  rf_track_counts c;
  /* The child first: a fork may not use OpenMP once this process has. A
   * 256 KiB file size limit lets every product be created, then fails a
   * write on the writer thread. */
  int pid = rf_test_fork_fsize(256 << 10);
  if (pid == 0) {
    if (rf_track_products_counted(plots, n, &cfg, &s, &info, dir, &c) != RF_EIO) _exit(10);
    if (!strstr(rf_errmsg(), "cannot write") || !strstr(rf_errmsg(), dir)) _exit(11);
    if (rf_test_count_entries(dir, NULL) != 0) _exit(12);
    if (c.ids != 0) _exit(13);
    free(plots); /* LeakSanitizer checks the child's exit too */
    rf_test_child_exit(0);
  }
  rf_test_child_ok(pid);

  rf_track_list want = {0}, got = {0};
  ck_assert_int_eq(rf_track_plots(plots, n, &cfg, &s, &want), 0);
  ck_assert_uint_gt(want.n, 60 * 250);
#ifdef _OPENMP
  const int omp_was = omp_get_max_threads();
#endif
  for (size_t m = 0; m < SHARE_WAYS; m++) {
    share_use(m);
    rf_test_fresh_dir(dir, sizeof dir, "track_threaded");
    ck_assert_int_eq(rf_track_products_counted(plots, n, &cfg, &s, &info, dir, &c), 0);
    ck_assert_int_eq(rf_tracks_read(rf_test_join(p, sizeof p, dir, "tracks.h5"), &got), 0);
    same_rows(&want, &got, share_threads[m]);
    ck_assert_int_eq(rf_tracks_read(rf_test_join(p, sizeof p, dir, "tracks.csv"), &got), 0);
    ck_assert_uint_eq(got.n, want.n);
    check_rows(want.v, got.v, want.n, 1);
    ck_assert_uint_eq(rf_test_count_entries(dir, NULL), RF_TRACK_PRODUCTS);
#ifdef _OPENMP
    ck_assert_int_eq(omp_get_max_threads(), share_threads[m]); /* restored */
#endif
  }
#ifdef _OPENMP
  omp_set_num_threads(2); /* the allocation failures below on the shared loops */
#endif
  rf_track_list_free(&got);
  rf_track_list_free(&want);

  /* Every allocation failure, on either thread: RF_ENOMEM and no file. */
  rf_test_fresh_dir(dir, sizeof dir, "track_threaded_oom");
  struct products_args pa = {plots, n, &cfg, &s, &info, dir};
  ck_assert_uint_ge(oom_sweep(products_run, &pa, dir), 10);
#ifdef _OPENMP
  omp_set_num_threads(omp_was);
#endif
  free(plots);
}
END_TEST

START_TEST(plots_sensor_attrs) {
  char dir[512], p[512];
  rf_test_fresh_dir(dir, sizeof dir, "plots_attrs");
  rf_test_join(p, sizeof p, dir, "plots.h5");
  rf_plot pl = {1.7e9, 0, 1000, 1, 10, 1, 20, 0, 0, 0};
  double tm[3] = {1.7e9, 1.7e9 + 0.5, 1.7e9 + 1}, az[3] = {356, 6, 12}, el[3] = {2, 2, 18};
  rf_product_info info = {.source_path = "c.h5", .radar_name = "r", .site_latitude_deg = 54.36,
                          .site_longitude_deg = -0.67, .site_altitude_m = 260,
                          .radial_velocity_interval_mps = 11.53, .range_cell_m = 149.9,
                          .doppler_cell_mps = 0.72, .beamwidth_az_deg = 17.2, .beamwidth_el_deg = 17.1,
                          .coverage_az_deg = 25.8, .coverage_el_deg = 17.1, .dwells = 3,
                          .dwell_time_s = tm, .dwell_azimuth_deg = az, .dwell_elevation_deg = el};
  ck_assert_int_eq(rf_plots_write_h5(p, &pl, 1, &info), 0);
  rf_plots_attrs a;
  ck_assert_int_eq(rf_plots_read_attrs(p, &a), 0);
  ck_assert_str_eq(a.radar_name, "r");
  ck_assert(a.site_altitude_m == 260);
  ck_assert(a.radial_velocity_interval_mps == 11.53 && a.range_cell_m == 149.9 && a.doppler_cell_mps == 0.72);
  ck_assert(a.beamwidth_az_deg == 17.2 && a.beamwidth_el_deg == 17.1);
  ck_assert(a.coverage_az_deg == 25.8 && a.coverage_el_deg == 17.1);
  ck_assert_uint_eq(a.dwells, 3);
  for (int i = 0; i < 3; i++)
    ck_assert(a.dwell_time_s[i] == tm[i] && a.dwell_azimuth_deg[i] == az[i] && a.dwell_elevation_deg[i] == el[i]);
  rf_plots_attrs_free(&a);
  /* Unknown (0) fields and no table read back as 0. */
  rf_product_info old = {.source_path = "c.h5", .radar_name = "r", .site_latitude_deg = 1};
  ck_assert_int_eq(rf_plots_write_h5(p, &pl, 1, &old), 0);
  ck_assert_int_eq(rf_plots_read_attrs(p, &a), 0);
  ck_assert(a.radial_velocity_interval_mps == 0 && a.beamwidth_az_deg == 0);
  ck_assert_uint_eq(a.dwells, 0);
  rf_plots_attrs_free(&a);
}
END_TEST

/* `radarflow track plots.h5` reads the file in slices (pipelines/track_run.c:
 * the writer thread reads the next slice ahead; a dwell cut by a slice's
 * end moves in front of the next slice): over many slices and on each way
 * of sharing the cores, tracks.h5 holds exactly the rows rf_track_plots
 * gives for the same plots held in memory. */
START_TEST(track_file_streams) {
  char dir[512], p[512], out[512], o[512];
  rf_test_fresh_dir(dir, sizeof dir, "track_stream");
  rf_test_join(p, sizeof p, dir, "plots.h5");
  rf_config cfg;
  rf_config_defaults(&cfg);
  rf_track_sensor s;
  rf_product_info info;
  scene_sensor(&s, &info);
  rf_track_sensor_to_info(&s, &info);
  size_t n, np;
  rf_plot *plots = track_scene(300, 400, &cfg, &s, &n);
  ck_assert_uint_gt(n, 3 * 32768); /* more than three slices */
  ck_assert_int_eq(rf_plots_write_h5(p, plots, n, &info), 0);
  rf_track_list want = {0}, got = {0};
  ck_assert_int_eq(rf_track_plots(plots, n, &cfg, &s, &want), 0);
  free(plots);
#ifdef _OPENMP
  const int omp_was = omp_get_max_threads();
#endif
  for (size_t m = 0; m < SHARE_WAYS; m++) {
    share_use(m);
    char name[32];
    snprintf(name, sizeof name, "out%d", share_threads[m]);
    rf_test_join(out, sizeof out, dir, name);
    rf_track_counts c;
    ck_assert_int_eq(rf_track_file(p, &cfg, out, &np, &c, NULL, 0), 0);
    ck_assert_uint_eq(np, n);
    ck_assert_int_eq(rf_tracks_read(rf_test_join(o, sizeof o, out, "tracks.h5"), &got), 0);
    same_rows(&want, &got, share_threads[m]);
  }
#ifdef _OPENMP
  omp_set_num_threads(omp_was);
#endif
  rf_track_list_free(&got);
  rf_track_list_free(&want);
}
END_TEST

/* A plots.h5 holding only /plots (the contract's plot file, no radarflow
 * attributes): the tracker refuses it, naming what is missing and how to
 * give it (exit 2 from the CLI); with the values given on the command line
 * it tracks and writes all six products. */
START_TEST(track_file_needs_sensor) {
  char dir[512], p[512], out[512], log[512];
  rf_test_fresh_dir(dir, sizeof dir, "track_sensor");
  rf_test_join(p, sizeof p, dir, "plots.h5");
  rf_test_join(out, sizeof out, dir, "out");
  rf_test_join(log, sizeof log, dir, "log.txt");
  rf_plot pl[3];
  for (int i = 0; i < 3; i++) {
    rf_plot q = {1.7e9 + i, i, 20000 - 100 * i, -100, 10, 1, 25, 0, 0, 0};
    double u[3];
    rf_direction(q.azimuth_deg, q.elevation_deg, u);
    q.east_m = q.range_m * u[0], q.north_m = q.range_m * u[1], q.up_m = q.range_m * u[2];
    pl[i] = q;
  }
  ck_assert_int_eq(rf_plots_write_h5(p, pl, 3, NULL), 0);
  rf_config cfg;
  rf_config_defaults(&cfg);
  size_t np;
  rf_track_counts nt;
  ck_assert_int_eq(rf_track_file(p, &cfg, out, &np, &nt, NULL, 0), RF_EFORMAT);
  const char *msg = rf_errmsg();
  const char *need[] = {"site_latitude_deg", "site_longitude_deg", "site_altitude_m", "radial_velocity_interval_mps",
                        "range_cell_m", "doppler_cell_mps", "beamwidth_az_deg", "beamwidth_el_deg", "--set site.latitude_deg"};
  for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
    ck_assert_msg(strstr(msg, need[k]) != NULL, "message lacks %s: %s", need[k], msg);
  ck_assert(!rf_test_file_exists(out) || rf_test_count_entries(out, NULL) == 0);
  /* The CLI: exit 2, then 0 with the values given. */
  ck_assert_int_eq(rf_test_cli(log, "track", p, "-o", out, NULL), 2);
  size_t len;
  char *txt = rf_test_read_file(log, &len);
  ck_assert_ptr_nonnull(strstr(txt, "range_cell_m"));
  free(txt);
  ck_assert_int_eq(rf_test_cli(log, "track", p, "-o", out, "-q", "--set", "site.latitude_deg=52", "--set",
                               "site.longitude_deg=4", "--set", "site.altitude_m=0", "--set",
                               "tracker.velocity_interval_mps=0", "--set", "tracker.range_cell_m=30", "--set",
                               "tracker.doppler_cell_mps=1", "--set", "tracker.beamwidth_az_deg=2", "--set",
                               "tracker.beamwidth_el_deg=2", "--set", "tracker.max_speed_mps=400", NULL),
                   0);
  const char *prods[] = {"tracks.h5", "tracks.csv", "plots.ast", "tracks.ast", "plots.pcap", "tracks.pcap"};
  for (int k = 0; k < 6; k++) ck_assert(rf_test_file_exists(rf_test_join(p, sizeof p, out, prods[k])));
  /* One value given is not enough: the rest are still named. */
  rf_test_join(p, sizeof p, dir, "plots.h5");
  ck_assert_int_eq(rf_config_set(&cfg, "tracker.range_cell_m=30"), 0);
  ck_assert_int_eq(rf_track_file(p, &cfg, out, &np, &nt, NULL, 0), RF_EFORMAT);
  ck_assert_ptr_null(strstr(rf_errmsg(), "range_cell_m"));
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), "doppler_cell_mps"));
}
END_TEST

Suite *test_tracks_io_suite(void) {
  Suite *s = suite_create("test_tracks_io_suite");
  TCase *tc = tcase_create("tracks_io");
  /* track_products_threaded runs the tracker some 70 times (its allocation
   * sweep): near Check's 4 s default under the sanitizers. */
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, tracks_round_trip);
  tcase_add_test(tc, tracks_errors_and_atomic);
  tcase_add_test(tc, tracks_stream_failures);
  tcase_add_test(tc, track_products_threaded);
  tcase_add_test(tc, track_file_streams);
  tcase_add_test(tc, plots_sensor_attrs);
  tcase_add_test(tc, track_file_needs_sensor);
  suite_add_tcase(s, tc);
  return s;
}
