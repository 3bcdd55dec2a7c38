/* radarflow tests: plot products (io/products.c) - HDF5 and CSV round trips,
 * the exact CSV header and compound layout of formats.md, empty products,
 * failures that must leave no file, and allocation failures. */
#include <check.h>
#include <float.h>
#include <hdf5.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/rf_products.h"
#include "../io/rf_tracks.h"
#include "../io/table.h"
#include "rf_testutil.h"

#define RF_TEST_OOM_MAX_STEPS 100

static const char *header =
    "time_s,dwell,range_m,radial_velocity_mps,azimuth_deg,elevation_deg,snr_db,east_m,north_m,up_m";
static const char *columns[10] = {"time_s", "dwell", "range_m", "radial_velocity_mps", "azimuth_deg",
                                  "elevation_deg", "snr_db", "east_m", "north_m", "up_m"};

static const char *dir_for(const char *name) {
  static char d[4096];
  return rf_test_fresh_dir(d, sizeof d, name);
}

/* Plots whose doubles are hard to print: thirds, tiny, huge, subnormal,
 * negative zero, infinities, epoch times with sub-microsecond parts. */
static size_t make_plots(rf_plot *p, size_t cap) {
  const double v[] = {1.0 / 3.0, -0.0, 1e-300, 4.9406564584124654e-324, DBL_MAX, -DBL_MIN,
                      1700000000.123456789, 0.1, -2.5e-7, INFINITY, -INFINITY, 123456.789, 6.02214076e23};
  size_t nv = sizeof v / sizeof v[0], n = cap < 40 ? cap : 40;
  for (size_t i = 0; i < n; i++) {
    p[i].time_s = 1700000000.0 + (double)i * 0.0123456789;
    p[i].dwell = (int32_t)i - 2; /* negatives too */
    p[i].range_m = v[i % nv];
    p[i].radial_velocity_mps = v[(i + 1) % nv];
    p[i].azimuth_deg = v[(i + 2) % nv];
    p[i].elevation_deg = v[(i + 3) % nv];
    p[i].snr_db = v[(i + 4) % nv];
    p[i].east_m = v[(i + 5) % nv];
    p[i].north_m = v[(i + 6) % nv];
    p[i].up_m = v[(i + 7) % nv];
  }
  if (n > 0) p[0].dwell = INT32_MIN;
  if (n > 1) p[1].dwell = INT32_MAX;
  return n;
}

/* Bit-exact comparison field by field (padding in rf_plot is not compared). */
static void check_plots(const rf_plot *e, const rf_plot *g, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ck_assert_mem_eq(&g[i].time_s, &e[i].time_s, sizeof(double));
    ck_assert_int_eq(g[i].dwell, e[i].dwell);
    ck_assert_mem_eq(&g[i].range_m, &e[i].range_m, 8 * sizeof(double));
  }
}

/* Decimals of each plots.csv column after time_s and dwell, as
 * docs/formats.md states them: metres and m/s to 1e-3, degrees to 1e-7,
 * dB to 1e-3; time_s to 1e-6. */
static const int plot_decimals[8] = {3, 3, 7, 7, 3, 3, 3, 3};
#define PLOT_TIME_DECIMALS 6

/* The CSV read back: each double to its column's documented precision. */
static void check_plots_csv(const rf_plot *e, const rf_plot *g, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(rf_test_csv_same(e[i].time_s, g[i].time_s, PLOT_TIME_DECIMALS), "row %zu time_s %.17g read %.17g",
                  i, e[i].time_s, g[i].time_s);
    ck_assert_int_eq(g[i].dwell, e[i].dwell);
    const double *x = &e[i].range_m, *y = &g[i].range_m;
    for (int k = 0; k < 8; k++)
      ck_assert_msg(rf_test_csv_same(x[k], y[k], plot_decimals[k]), "row %zu column %s: %.17g read %.17g", i,
                    columns[k + 2], x[k], y[k]);
  }
}

static void roundtrip(const char *name, const char *file, int h5) {
  const char *d = dir_for(name);
  char path[4096];
  rf_plot p[40];
  size_t n = make_plots(p, 40);
  rf_product_info info = {.source_path = "in/capture.h5", .radar_name = "radar one", .site_latitude_deg = 52.5,
                          .site_longitude_deg = 4.25, .site_altitude_m = -3.0};
  rf_test_join(path, sizeof path, d, file);
  int st = h5 ? rf_plots_write_h5(path, p, n, &info) : rf_plots_write_csv(path, p, n);
  ck_assert_msg(st == 0, "write: %s", rf_errmsg());
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 1); /* no temporary left */
  rf_plot_list l = {0};
  ck_assert_msg(rf_plots_read(path, &l) == 0, "read: %s", rf_errmsg());
  ck_assert_uint_eq(l.n, n);
  if (h5) check_plots(p, l.v, n);
  else check_plots_csv(p, l.v, n);
  /* Reading again replaces the list. */
  ck_assert_int_eq(rf_plots_read(path, &l), 0);
  ck_assert_uint_eq(l.n, n);
  rf_plot_list_free(&l);
  ck_assert_ptr_null(l.v);
  rf_plot_list_free(NULL);
}

START_TEST(test_h5_roundtrip) { roundtrip("prod_h5", "plots.h5", 1); }
END_TEST

START_TEST(test_csv_roundtrip) { roundtrip("prod_csv", "plots.csv", 0); }
END_TEST

START_TEST(test_csv_text) {
  const char *d = dir_for("prod_csv_text");
  char path[4096];
  rf_plot p = {1700000000.5, 3, 1000.25, -12.5, 45.0, 2.0, 20.0, 1.0 / 3.0, -0.0, 1e-300};
  rf_test_join(path, sizeof path, d, "plots.csv");
  /* A locale with a decimal comma, where the system has one, must not leak
   * into the file. */
  const char *had = setlocale(LC_NUMERIC, "de_DE.UTF-8");
  ck_assert_int_eq(rf_plots_write_csv(path, &p, 1), 0);
  if (had) setlocale(LC_NUMERIC, "C");
  size_t len;
  char *txt = rf_test_read_file(path, &len);
  ck_assert_ptr_nonnull(txt);
  char expect[1024];
  /* Each column to its documented decimals; a value rounding to zero
   * without its sign. */
  snprintf(expect, sizeof expect,
           "%s\n1700000000.500000,3,1000.250,-12.500,45.0000000,2.0000000,20.000,0.333,0.000,0.000\n", header);
  ck_assert_str_eq(txt, expect);
  free(txt);
  /* Beyond 1e15 fixed point would make absurd lines: %.17g. */
  p.range_m = 6.02214076e23;
  p.north_m = -1e300;
  ck_assert_int_eq(rf_plots_write_csv(path, &p, 1), 0);
  txt = rf_test_read_file(path, &len);
  ck_assert_ptr_nonnull(strstr(txt, ",6.0221407599999999e+23,"));
  ck_assert_ptr_nonnull(strstr(txt, ",-1.0000000000000001e+300,"));
  free(txt);
}
END_TEST

/* The CSV's fixed-point numbers against glibc's printf (the oracle):
 * 20,000 random values over every magnitude the columns take, printed to
 * each column's decimals. radarflow rounds v * 10^d in double; where that
 * differs from printf's exact decimal rounding, v must lie within two ulps
 * of a rounding tie, and the digit is then still correct to half a unit
 * plus an ulp. NaN and infinities against %.17g; the dwell column
 * against %d. */
START_TEST(test_csv_vs_printf) {
  const char *d = dir_for("prod_csv_printf");
  char path[4096];
  rf_test_join(path, sizeof path, d, "plots.csv");
  enum { N = 2000 };
  rf_plot *p = malloc(N * sizeof *p);
  ck_assert_ptr_nonnull(p);
  unsigned long long x = 88172645463325252ull;
  for (size_t i = 0; i < N; i++) {
    double *f = &p[i].range_m;
    p[i].time_s = 1.7e9 + (double)(i * 7919 % 100000) * 0.0123456789;
    for (int k = 0; k < 8; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      double u = (double)(x >> 11) * 0x1p-53, mag = pow(10.0, -4.0 + 14.0 * u);
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      f[k] = (x & 1 ? -1 : 1) * mag * (double)(x >> 11) * 0x1p-53;
      if (i % 97 == 0) f[k] = (double)(int64_t)(f[k] * 1000) / 1000 + 0.0005; /* near ties */
    }
    if (i % 101 == 3) { /* NaN and infinities, both signs: as printf's %.17g */
      static const double special[4] = {NAN, -NAN, INFINITY, -INFINITY};
      f[i % 8] = special[(i / 101) % 4];
    }
    p[i].dwell = (int32_t)(x >> 33) - (int32_t)0x40000000;
  }
  ck_assert_int_eq(rf_plots_write_csv(path, p, N), 0);
  size_t len;
  char *txt = rf_test_read_file(path, &len);
  ck_assert_ptr_nonnull(txt);
  char *line = strchr(txt, '\n') + 1;
  size_t differ = 0;
  for (size_t i = 0; i < N; i++) {
    char *end = strchr(line, '\n');
    ck_assert_ptr_nonnull(end);
    *end = 0;
    char *field[10], *save = NULL;
    int nf = 0;
    for (char *t = strtok_r(line, ",", &save); t && nf < 10; t = strtok_r(NULL, ",", &save)) field[nf++] = t;
    ck_assert_int_eq(nf, 10);
    const double v[10] = {p[i].time_s,        0,         p[i].range_m,  p[i].radial_velocity_mps,
                          p[i].azimuth_deg,   p[i].elevation_deg, p[i].snr_db, p[i].east_m, p[i].north_m, p[i].up_m};
    const int dec[10] = {6, -1, 3, 3, 7, 7, 3, 3, 3, 3};
    for (int k = 0; k < 10; k++) {
      char ref[64];
      if (k == 1) {
        snprintf(ref, sizeof ref, "%d", (int)p[i].dwell);
        ck_assert_str_eq(field[k], ref);
        continue;
      }
      if (!isfinite(v[k])) {
        snprintf(ref, sizeof ref, "%.17g", v[k]);
        ck_assert_str_eq(field[k], ref);
        continue;
      }
      snprintf(ref, sizeof ref, "%.*f", dec[k], v[k]);
      char *r = ref;
      if (r[0] == '-' && strspn(r + 1, "0.") == strlen(r + 1)) r++;
      if (!strcmp(field[k], r)) continue;
      differ++;
      double sc = v[k] * pow(10.0, dec[k]), frac = fabs(sc - trunc(sc));
      ck_assert_msg(fabs(frac - 0.5) <= 4 * DBL_EPSILON * fabs(sc), "row %zu col %d: %.17g printed %s, printf %s", i,
                    k, v[k], field[k], r);
      ck_assert(fabs(strtod(field[k], NULL) - v[k]) <= 0.5 * pow(10.0, -dec[k]) + 2 * DBL_EPSILON * fabs(v[k]));
    }
    line = end + 1;
  }
  printf("csv: %d fixed-point fields against printf: %zu differ, each at a rounding tie\n", N * 9, differ);
  free(txt);
  free(p);
}
END_TEST

/* tracks.csv field by field against printf, every column of the track
 * table at its glossary decimals (3, 6, 7 and 8 after the point, integers,
 * the status word, NaN): values of every magnitude the fixed-point path
 * takes (below 2^53 units of the last digit), both signs, zero and
 * numbers that round to zero. printf is the independent reference; a
 * field may differ only at a rounding tie (the integer path rounds
 * v * 10^d, printf the exact decimal expansion). */
START_TEST(test_tracks_csv_vs_printf) {
  const char *d = dir_for("prod_tracks_csv_printf");
  char path[4096];
  rf_test_join(path, sizeof path, d, "tracks.csv");
  enum { N = 4000 };
  const rf__table *t = &rf__track_table;
  rf_track_row *rows = calloc(N, sizeof *rows);
  ck_assert_ptr_nonnull(rows);
  unsigned long long x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < N; i++) {
    char *row = (char *)&rows[i];
    for (size_t k = 0; k < t->ncols; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      if (t->cols[k].kind == RF__COL_F64) {
        double u = (double)(x >> 11) * 0x1p-53, mag = pow(10.0, -9.0 + 19.0 * u), v;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v = (x & 1 ? -1 : 1) * mag * (double)(x >> 11) * 0x1p-53;
        if (i % 50 == 7) v = (x & 2) ? 0.0 : -0.0;
        if (i % 50 == 9) v = NAN;
        memcpy(row + t->cols[k].off, &v, sizeof v);
      } else {
        int32_t v = t->cols[k].kind == RF__COL_WORD ? (int32_t)(x % (unsigned)t->nwords) : (int32_t)(x >> 33) - (int32_t)(i * 997);
        memcpy(row + t->cols[k].off, &v, sizeof v);
      }
    }
  }
  ck_assert_int_eq(rf_tracks_write_csv(path, rows, N), 0);
  size_t len, differ = 0, fixed = 0;
  char *txt = rf_test_read_file(path, &len);
  ck_assert_ptr_nonnull(txt);
  char *line = strchr(txt, '\n') + 1;
  for (size_t i = 0; i < N; i++) {
    char *end = strchr(line, '\n'), *save = NULL;
    ck_assert_ptr_nonnull(end);
    *end = 0;
    const char *row = (const char *)&rows[i];
    char *f = strtok_r(line, ",", &save);
    for (size_t k = 0; k < t->ncols; k++, f = strtok_r(NULL, ",", &save)) {
      ck_assert_ptr_nonnull(f);
      char ref[64];
      const char *r = ref;
      if (t->cols[k].kind != RF__COL_F64) {
        int32_t v;
        memcpy(&v, row + t->cols[k].off, sizeof v);
        if (t->cols[k].kind == RF__COL_WORD) r = t->words[v];
        else snprintf(ref, sizeof ref, "%d", (int)v);
        ck_assert_str_eq(f, r);
        continue;
      }
      double v;
      memcpy(&v, row + t->cols[k].off, sizeof v);
      const rf__col_doc *doc = rf__col_doc_find(t->what, t->cols[k].name);
      ck_assert_ptr_nonnull(doc);
      int dec = doc->decimals;
      if (!isfinite(v) || dec < 0 || !(fabs(v) < 1e15)) snprintf(ref, sizeof ref, "%.17g", v);
      else snprintf(ref, sizeof ref, "%.*f", dec, v), fixed++;
      if (r[0] == '-' && strspn(r + 1, "0.") == strlen(r + 1)) r++;
      if (!strcmp(f, r)) continue;
      differ++;
      double sc = v * pow(10.0, dec), frac = fabs(sc - trunc(sc));
      ck_assert_msg(fabs(frac - 0.5) <= 4 * DBL_EPSILON * fabs(sc), "row %zu %s: %.17g printed %s, printf %s", i,
                    t->cols[k].name, v, f, r);
    }
    ck_assert_ptr_null(f);
    line = end + 1;
  }
  ck_assert_uint_gt(fixed, N * 15);
  printf("tracks.csv: %zu fixed-point fields against printf: %zu differ, each at a rounding tie\n", fixed, differ);
  free(txt);
  free(rows);
}
END_TEST

START_TEST(test_h5_layout) {
  const char *d = dir_for("prod_h5_layout");
  char path[4096];
  rf_plot p[3];
  size_t n = make_plots(p, 3);
  rf_product_info info = {.source_path = "captures/a.h5", .radar_name = "radar \xc3\xa9", .site_latitude_deg = 52.5,
                          .site_longitude_deg = 4.25, .site_altitude_m = -3.0};
  rf_test_join(path, sizeof path, d, "plots.h5");
  ck_assert_int_eq(rf_plots_write_h5(path, p, n, &info), 0);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  hid_t ds = H5Dopen2(f, "plots", H5P_DEFAULT), t = H5Dget_type(ds);
  ck_assert_int_eq(H5Tget_class(t), H5T_COMPOUND);
  ck_assert_int_eq(H5Tget_nmembers(t), 10);
  for (unsigned k = 0; k < 10; k++) {
    char *nm = H5Tget_member_name(t, k);
    ck_assert_str_eq(nm, columns[k]);
    H5free_memory(nm);
    hid_t mt = H5Tget_member_type(t, k);
    if (k == 1) {
      ck_assert_int_eq(H5Tget_class(mt), H5T_INTEGER);
      ck_assert_uint_eq(H5Tget_size(mt), 4);
      ck_assert_int_eq(H5Tget_sign(mt), H5T_SGN_2);
    } else {
      ck_assert_int_eq(H5Tget_class(mt), H5T_FLOAT);
      ck_assert_uint_eq(H5Tget_size(mt), 8);
    }
    H5Tclose(mt);
  }
  /* Members are in increasing offset order too (packed, formats.md order). */
  for (unsigned k = 1; k < 10; k++) ck_assert_uint_gt(H5Tget_member_offset(t, k), H5Tget_member_offset(t, k - 1));
  H5Tclose(t);
  hid_t s = H5Dget_space(ds);
  hsize_t dim;
  ck_assert_int_eq(H5Sget_simple_extent_ndims(s), 1);
  H5Sget_simple_extent_dims(s, &dim, NULL);
  ck_assert_uint_eq(dim, n);
  H5Sclose(s);
  H5Dclose(ds);

  /* Root attributes (extension, docs/formats.md). */
  struct {
    const char *name, *value;
  } strs[] = {{"format", "radarflow.plots"}, {"source_path", NULL}, {"radar_name", "radar \xc3\xa9"},
               {"time_epoch", "1970-01-01T00:00:00Z"}};
  /* The source path is stored absolute: a relative one joined to the
   * current folder. */
  char cwd[4096], abs_src[4200];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(abs_src, sizeof abs_src, "%s/captures/a.h5", cwd);
  strs[1].value = abs_src;
  for (size_t i = 0; i < 4; i++) {
    hid_t a = H5Aopen(f, strs[i].name, H5P_DEFAULT), at = H5Aget_type(a);
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(H5Tget_class(at), H5T_STRING);
    char *v = NULL;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(at));
    ck_assert_int_ge(H5Aread(a, mt, &v), 0);
    ck_assert_str_eq(v, strs[i].value);
    H5free_memory(v);
    H5Tclose(mt);
    H5Tclose(at);
    H5Aclose(a);
  }
  int ver = 0;
  hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  ck_assert_int_ge(H5Aread(a, H5T_NATIVE_INT, &ver), 0);
  ck_assert_int_eq(ver, 1);
  H5Aclose(a);
  const char *dn[3] = {"site_latitude_deg", "site_longitude_deg", "site_altitude_m"};
  double dv[3] = {52.5, 4.25, -3.0};
  for (int i = 0; i < 3; i++) {
    double v;
    a = H5Aopen(f, dn[i], H5P_DEFAULT);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_DOUBLE, &v), 0);
    ck_assert(v == dv[i]);
    H5Aclose(a);
  }
  H5Fclose(f);
}
END_TEST

/* Attribute `name` of obj as strings (scalar: one); *n their count. The
 * caller frees with free_strings. */
static char **read_strings(hid_t obj, const char *name, size_t *n) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  ck_assert_msg(a >= 0, "no attribute %s", name);
  hid_t sp = H5Aget_space(a), mt = H5Tcopy(H5T_C_S1);
  H5Tset_size(mt, H5T_VARIABLE);
  H5Tset_cset(mt, H5T_CSET_UTF8);
  *n = (size_t)H5Sget_simple_extent_npoints(sp);
  char **v = calloc(*n ? *n : 1, sizeof *v);
  ck_assert_int_ge(H5Aread(a, mt, v), 0);
  H5Tclose(mt);
  H5Sclose(sp);
  H5Aclose(a);
  return v;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) H5free_memory(v[i]);
  free(v);
}

/* A product file says what its numbers are: the root's time_epoch; on the
 * compound dataset, "units" and "descriptions" with one entry per member,
 * every description non-empty, every number with a unit, and time_s in
 * seconds since the epoch. */
static void check_described(const char *path, const char *dset) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  size_t n, nu, nd;
  char **ep = read_strings(f, "time_epoch", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(ep[0], "1970-01-01T00:00:00Z");
  free_strings(ep, n);
  hid_t d = H5Dopen2(f, dset, H5P_DEFAULT), t = H5Dget_type(d);
  int nm = H5Tget_nmembers(t);
  char **units = read_strings(d, "units", &nu), **desc = read_strings(d, "descriptions", &nd);
  ck_assert_uint_eq(nu, (size_t)nm);
  ck_assert_uint_eq(nd, (size_t)nm);
  for (int k = 0; k < nm; k++) {
    char *name = H5Tget_member_name(t, (unsigned)k);
    int is_enum = H5Tget_member_class(t, (unsigned)k) == H5T_ENUM;
    ck_assert_msg(desc[k] && strlen(desc[k]) > 10, "%s: /%s: %s has no description", path, dset, name);
    ck_assert_msg(is_enum || (units[k] && units[k][0]), "%s: /%s: %s has no unit", path, dset, name);
    if (!strcmp(name, "time_s")) ck_assert_str_eq(units[k], "s since 1970-01-01T00:00:00Z");
    if (strstr(name, "_deg")) ck_assert_str_eq(units[k], "deg");
    if (strlen(name) > 2 && !strcmp(name + strlen(name) - 2, "_m")) ck_assert_str_eq(units[k], "m");
    H5free_memory(name);
  }
  free_strings(units, nu);
  free_strings(desc, nd);
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);
}

START_TEST(test_h5_units) {
  const char *d = dir_for("prod_h5_units");
  char path[4096];
  rf_plot p[3];
  size_t n = make_plots(p, 3);
  double dt[2] = {1.7e9, 1.7e9 + 1}, daz[2] = {10, 20}, del[2] = {1, 2};
  rf_product_info info = {.source_path = "a.h5", .radar_name = "r", .dwells = 2, .dwell_time_s = dt,
                          .dwell_azimuth_deg = daz, .dwell_elevation_deg = del};
  rf_test_join(path, sizeof path, d, "plots.h5");
  ck_assert_int_eq(rf_plots_write_h5(path, p, n, &info), 0);
  check_described(path, "plots");
  /* The /dwell table too. */
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  const char *dn[3] = {"dwell/time_s", "dwell/azimuth_deg", "dwell/elevation_deg"};
  const char *du[3] = {"s since 1970-01-01T00:00:00Z", "deg", "deg"};
  for (int k = 0; k < 3; k++) {
    hid_t ds = H5Dopen2(f, dn[k], H5P_DEFAULT);
    size_t m;
    char **u = read_strings(ds, "units", &m);
    ck_assert_str_eq(u[0], du[k]);
    free_strings(u, m);
    u = read_strings(ds, "description", &m);
    ck_assert_uint_gt(strlen(u[0]), 10);
    free_strings(u, m);
    H5Dclose(ds);
  }
  H5Fclose(f);
  rf_track_row r = {.time_s = 1.7e9, .track_id = 1, .status = RF_TRACK_CONFIRMED};
  rf_test_join(path, sizeof path, d, "tracks.h5");
  ck_assert_int_eq(rf_tracks_write_h5(path, &r, 1, &info), 0);
  check_described(path, "tracks");
}
END_TEST

/* The same plots give the same bytes: no timestamps in the file. */
START_TEST(test_h5_deterministic) {
  const char *d = dir_for("prod_h5_det");
  char a[4096], b[4096];
  rf_plot p[40];
  size_t n = make_plots(p, 40), la, lb;
  rf_product_info info = {.source_path = "x.h5", .radar_name = "r", .site_latitude_deg = 1,
                          .site_longitude_deg = 2, .site_altitude_m = 3};
  rf_test_join(a, sizeof a, d, "a.h5");
  rf_test_join(b, sizeof b, d, "b.h5");
  ck_assert_int_eq(rf_plots_write_h5(a, p, n, &info), 0);
  ck_assert_int_eq(rf_plots_write_h5(b, p, n, &info), 0);
  char *ta = rf_test_read_file(a, &la), *tb = rf_test_read_file(b, &lb);
  ck_assert_uint_eq(la, lb);
  ck_assert_mem_eq(ta, tb, la);
  free(ta);
  free(tb);
}
END_TEST

START_TEST(test_empty) {
  const char *d = dir_for("prod_empty");
  char h5[4096], csv[4096];
  rf_test_join(h5, sizeof h5, d, "plots.h5");
  rf_test_join(csv, sizeof csv, d, "plots.csv");
  ck_assert_int_eq(rf_plots_write_h5(h5, NULL, 0, NULL), 0);
  ck_assert_int_eq(rf_plots_write_csv(csv, NULL, 0), 0);
  rf_plot_list l = {0};
  ck_assert_int_eq(rf_plots_read(h5, &l), 0);
  ck_assert_uint_eq(l.n, 0);
  ck_assert_int_eq(rf_plots_read(csv, &l), 0);
  ck_assert_uint_eq(l.n, 0);
  rf_plot_list_free(&l);
  char *txt = rf_test_read_file(csv, NULL);
  char expect[256];
  snprintf(expect, sizeof expect, "%s\n", header);
  ck_assert_str_eq(txt, expect);
  free(txt);
  hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT), ds = H5Dopen2(f, "plots", H5P_DEFAULT);
  hid_t s = H5Dget_space(ds);
  ck_assert_int_eq(H5Sget_simple_extent_npoints(s), 0);
  hid_t t = H5Dget_type(ds);
  ck_assert_int_eq(H5Tget_nmembers(t), 10);
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(ds);
  H5Fclose(f);
}
END_TEST

/* Writers that cannot write: RF_EIO naming the file, nothing left behind. */
START_TEST(test_unwritable) {
  const char *d = dir_for("prod_unwritable");
  char nodir[4096];
  rf_plot p[2];
  size_t n = make_plots(p, 2);
  const char *paths[] = {nodir, "/proc/rf_plots_test.h5", "/proc/rf_plots_test.csv", "/proc/rf_plots_test.bin"};
  rf_test_join(nodir, sizeof nodir, d, "missing/dir/plots.h5");
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    for (int kind = 0; kind < 3; kind++) {
      int st = kind == 0 ? rf_plots_write_h5(paths[i], p, n, NULL)
               : kind == 1 ? rf_plots_write_csv(paths[i], p, n)
                           : rf_write_file_atomic(paths[i], "abc", 3);
      ck_assert_msg(st == RF_EIO, "%s kind %d: %s", paths[i], kind, rf_err_name(st));
      ck_assert_ptr_nonnull(strstr(rf_errmsg(), paths[i]));
      ck_assert_ptr_nonnull(strstr(rf_errmsg(), "cannot write"));
      ck_assert(!rf_test_file_exists(paths[i]));
    }
  }
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 0);
  ck_assert_uint_eq(rf_test_count_entries("/proc", "rf_plots_test"), 0);
}
END_TEST

/* A write that fails part way (file size limit: EFBIG, as a full disk would
 * give ENOSPC): RF_EIO with the reason, and no file left. Run in a child so
 * the limit does not outlive the test; the child's exit code names the
 * first check that failed. */
START_TEST(test_write_fails_midway) {
  const char *d = dir_for("prod_midway");
  static rf_plot p[2000];
  char path[3][4096];
  for (size_t i = 0; i < 2000; i += 40) make_plots(p + i, 40);
  rf_test_join(path[0], sizeof path[0], d, "plots.h5");
  rf_test_join(path[1], sizeof path[1], d, "plots.csv");
  rf_test_join(path[2], sizeof path[2], d, "raw.bin");
  static char blob[64 << 10];
  int pid = rf_test_fork_fsize(16 << 10);
  if (pid == 0) {
    for (int kind = 0; kind < 3; kind++) {
      int st = kind == 0 ? rf_plots_write_h5(path[0], p, 2000, NULL)
               : kind == 1 ? rf_plots_write_csv(path[1], p, 2000)
                           : rf_write_file_atomic(path[2], blob, sizeof blob);
      if (st != RF_EIO) _exit(10 + kind);
      if (!strstr(rf_errmsg(), path[kind]) || !strstr(rf_errmsg(), "cannot write")) _exit(20 + kind);
      if (rf_test_count_entries(d, NULL) != 0) _exit(30 + kind);
    }
    rf_test_child_exit(0);
  }
  rf_test_child_ok(pid);
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 0);
}
END_TEST

START_TEST(test_alloc_failures) {
  const char *d = dir_for("prod_oom");
  char path[3][4096];
  rf_plot p[40];
  size_t n = make_plots(p, 40);
  rf_product_info info = {.source_path = "x.h5", .radar_name = "r", .site_latitude_deg = 1,
                          .site_longitude_deg = 2, .site_altitude_m = 3};
  rf_test_join(path[0], sizeof path[0], d, "plots.h5");
  rf_test_join(path[1], sizeof path[1], d, "plots.csv");
  rf_test_join(path[2], sizeof path[2], d, "raw.bin");
  for (int kind = 0; kind < 3; kind++) {
    size_t k, failures = 0;
    for (k = 1; k < RF_TEST_OOM_MAX_STEPS; k++) {
      rf_alloc_fail_after(k, 0);
      int st = kind == 0 ? rf_plots_write_h5(path[0], p, n, &info)
               : kind == 1 ? rf_plots_write_csv(path[1], p, n)
                           : rf_write_file_atomic(path[2], "abc", 3);
      rf_alloc_fail_after(0, 0);
      if (st == 0) break;
      ck_assert_int_eq(st, RF_ENOMEM);
      ck_assert(!rf_test_file_exists(path[kind]));
      ck_assert_uint_eq(rf_test_count_entries(d, NULL), (size_t)kind);
      failures++;
    }
    ck_assert_uint_lt(k, RF_TEST_OOM_MAX_STEPS);
    ck_assert_uint_ge(failures, 1);
    ck_assert(rf_test_file_exists(path[kind]));
  }
  /* The reader under allocation failure. */
  for (int kind = 0; kind < 2; kind++) {
    size_t k;
    for (k = 1; k < RF_TEST_OOM_MAX_STEPS; k++) {
      rf_plot_list l = {0};
      rf_alloc_fail_after(k, 0);
      int st = rf_plots_read(path[kind], &l);
      rf_alloc_fail_after(0, 0);
      if (st == 0) {
        ck_assert_uint_eq(l.n, n);
        rf_plot_list_free(&l);
        break;
      }
      ck_assert_int_eq(st, RF_ENOMEM);
      ck_assert_ptr_null(l.v);
    }
    ck_assert_uint_gt(k, 1);
  }
}
END_TEST

START_TEST(test_plot_list) {
  rf_plot_list l = {0};
  rf_plot p = {0};
  for (int i = 0; i < 1000; i++) {
    p.dwell = i;
    ck_assert_int_eq(rf_plot_list_push(&l, &p), 0);
  }
  ck_assert_uint_eq(l.n, 1000);
  ck_assert_uint_ge(l.cap, 1000);
  for (int i = 0; i < 1000; i++) ck_assert_int_eq(l.v[i].dwell, i);
  /* A failed grow leaves the list as it was. */
  while (l.n < l.cap) ck_assert_int_eq(rf_plot_list_push(&l, &p), 0);
  size_t n = l.n;
  rf_alloc_fail_after(1, 0);
  ck_assert_int_eq(rf_plot_list_push(&l, &p), RF_ENOMEM);
  rf_alloc_fail_after(0, 0);
  ck_assert_uint_eq(l.n, n);
  ck_assert_int_eq(l.v[999].dwell, 999);
  rf_plot_list_free(&l);
  ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(test_read_errors) {
  const char *d = dir_for("prod_read_err");
  char path[4096];
  rf_plot_list l = {0};
  static const char *bad[] = {
      "time_s,dwell\n1,2\n",                                                   /* wrong header */
      "",                                                                      /* empty */
      NULL,                                                                    /* header + short row */
      NULL,                                                                    /* header + junk */
  };
  char rows[2][512];
  snprintf(rows[0], sizeof rows[0], "%s\n1,2,3,4,5,6,7,8,9\n", header);
  snprintf(rows[1], sizeof rows[1], "%s\n1,2,3,4,5,6,7,8,9,x\n", header);
  bad[2] = rows[0];
  bad[3] = rows[1];
  rf_test_join(path, sizeof path, d, "plots.csv");
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(rf_write_file_atomic(path, bad[i], strlen(bad[i])), 0);
    ck_assert_int_eq(rf_plots_read(path, &l), RF_EFORMAT);
    ck_assert_ptr_nonnull(strstr(rf_errmsg(), path));
    ck_assert_uint_eq(l.n, 0);
  }
  /* CRLF line ends are accepted. */
  snprintf(rows[0], sizeof rows[0], "%s\r\n1,2,3,4,5,6,7,8,9,10\r\n", header);
  ck_assert_int_eq(rf_write_file_atomic(path, rows[0], strlen(rows[0])), 0);
  ck_assert_int_eq(rf_plots_read(path, &l), 0);
  ck_assert_uint_eq(l.n, 1);
  ck_assert_int_eq(l.v[0].dwell, 2);
  ck_assert(l.v[0].up_m == 10.0);
  rf_plot_list_free(&l);
  /* An HDF5 name that is not HDF5; an unknown extension. */
  rf_test_join(path, sizeof path, d, "plots.h5");
  ck_assert_int_eq(rf_write_file_atomic(path, "abc", 3), 0);
  ck_assert_int_eq(rf_plots_read(path, &l), RF_EFORMAT);
  ck_assert_ptr_nonnull(strstr(rf_errmsg(), path));
  ck_assert_int_eq(rf_plots_read("plots.txt", &l), RF_EINVAL);
  ck_assert_int_eq(rf_plots_read("/nonexistent/plots.csv", &l), RF_EFORMAT);
}
END_TEST

START_TEST(test_write_file_atomic) {
  const char *d = dir_for("prod_atomic");
  char path[4096];
  size_t len;
  rf_test_join(path, sizeof path, d, "f.json");
  ck_assert_int_eq(rf_write_file_atomic(path, "{\"a\": 1}\n", 9), 0);
  ck_assert_int_eq(rf_write_file_atomic(path, "{}", 2), 0); /* replaces */
  char *t = rf_test_read_file(path, &len);
  ck_assert_uint_eq(len, 2);
  ck_assert_str_eq(t, "{}");
  free(t);
  ck_assert_int_eq(rf_write_file_atomic(path, NULL, 0), 0);
  ck_assert_int_eq(rf_test_file_size(path), 0);
  ck_assert_uint_eq(rf_test_count_entries(d, NULL), 1);
}
END_TEST

Suite *test_products_suite(void) {
  Suite *s = suite_create("test_products_suite");
  TCase *tc = tcase_create("products");
  tcase_add_test(tc, test_h5_roundtrip);
  tcase_add_test(tc, test_csv_roundtrip);
  tcase_add_test(tc, test_csv_text);
  tcase_add_test(tc, test_csv_vs_printf);
  tcase_add_test(tc, test_tracks_csv_vs_printf);
  tcase_add_test(tc, test_h5_layout);
  tcase_add_test(tc, test_h5_units);
  tcase_add_test(tc, test_h5_deterministic);
  tcase_add_test(tc, test_empty);
  tcase_add_test(tc, test_unwritable);
  tcase_add_test(tc, test_write_fails_midway);
  tcase_add_test(tc, test_alloc_failures);
  tcase_add_test(tc, test_plot_list);
  tcase_add_test(tc, test_read_errors);
  tcase_add_test(tc, test_write_file_atomic);
  suite_add_tcase(s, tc);
  return s;
}
