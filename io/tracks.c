/* radarflow io/: track files (rf_tracks.h): HDF5 compound /tracks with an
 * enum status, CSV with status words; atomic writes; readers for both. */
#include "rf_tracks.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "h5util.h"
#include "numfmt.h"

#define RF_TRACK_LIST_MIN_CAP 64
#define RF_TRACK_CSV_LINE_MAX 2048

enum { RF__COL_D = 0, RF__COL_I = 1, RF__COL_S = 2 };
static const struct {
  const char *name;
  size_t off;
  int kind;
} rf__tcols[] = {
    {"time_s", offsetof(rf_track_row, time_s), RF__COL_D},
    {"track_id", offsetof(rf_track_row, track_id), RF__COL_I},
    {"status", offsetof(rf_track_row, status), RF__COL_S},
    {"east_m", offsetof(rf_track_row, east_m), RF__COL_D},
    {"north_m", offsetof(rf_track_row, north_m), RF__COL_D},
    {"up_m", offsetof(rf_track_row, up_m), RF__COL_D},
    {"v_east_mps", offsetof(rf_track_row, v_east_mps), RF__COL_D},
    {"v_north_mps", offsetof(rf_track_row, v_north_mps), RF__COL_D},
    {"v_up_mps", offsetof(rf_track_row, v_up_mps), RF__COL_D},
    {"range_m", offsetof(rf_track_row, range_m), RF__COL_D},
    {"azimuth_deg", offsetof(rf_track_row, azimuth_deg), RF__COL_D},
    {"elevation_deg", offsetof(rf_track_row, elevation_deg), RF__COL_D},
    {"radial_velocity_mps", offsetof(rf_track_row, radial_velocity_mps), RF__COL_D},
    {"latitude_deg", offsetof(rf_track_row, latitude_deg), RF__COL_D},
    {"longitude_deg", offsetof(rf_track_row, longitude_deg), RF__COL_D},
    {"altitude_m", offsetof(rf_track_row, altitude_m), RF__COL_D},
    {"pos_sigma_m", offsetof(rf_track_row, pos_sigma_m), RF__COL_D},
    {"plots", offsetof(rf_track_row, plots), RF__COL_I},
    {"time_to_go_s", offsetof(rf_track_row, time_to_go_s), RF__COL_D},
    {"impact_time_s", offsetof(rf_track_row, impact_time_s), RF__COL_D},
    {"impact_latitude_deg", offsetof(rf_track_row, impact_latitude_deg), RF__COL_D},
    {"impact_longitude_deg", offsetof(rf_track_row, impact_longitude_deg), RF__COL_D},
    {"imm_cv_prob", offsetof(rf_track_row, imm_cv_prob), RF__COL_D},
    {"imm_manoeuvre_prob", offsetof(rf_track_row, imm_manoeuvre_prob), RF__COL_D},
    {"imm_ballistic_prob", offsetof(rf_track_row, imm_ballistic_prob), RF__COL_D},
};
enum { RF__NTCOLS = sizeof rf__tcols / sizeof rf__tcols[0] };

static const char *const rf__status_names[] = {"tentative", "confirmed", "coasting", "deleted"};

const char *rf_track_status_name(int s) { return s >= 0 && s <= 3 ? rf__status_names[s] : NULL; }

int rf_track_list_push(rf_track_list *l, const rf_track_row *r) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : RF_TRACK_LIST_MIN_CAP, bytes;
    rf_track_row *v;
    if (cap < l->cap || rf__mul_size(cap, sizeof *v, &bytes) < 0 || !(v = rf__realloc(l->v, bytes)))
      return rf__err(RF_ENOMEM, "track list: out of memory");
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *r;
  return 0;
}

void rf_track_list_free(rf_track_list *l) {
  if (!l) return;
  rf__free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* ---- HDF5 ------------------------------------------------------------------------ */
static hid_t rf__status_type(int file) {
  hid_t t = H5Tenum_create(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
  if (t < 0) return t;
  for (int32_t k = 0; k < 4; k++)
    if (H5Tenum_insert(t, rf__status_names[k], &k) < 0) {
      H5Tclose(t);
      return H5I_INVALID_HID;
    }
  return t;
}

/* The compound type of rf_track_row: memory (native, struct layout) or file
 * (little-endian, packed, column order). `status_enum` 0 reads the status
 * member as a plain integer (files that store it so). */
static hid_t rf__track_type(int file, int status_enum) {
  size_t size = 0;
  for (int k = 0; k < RF__NTCOLS; k++) size += rf__tcols[k].kind == RF__COL_D ? 8 : 4;
  hid_t t = H5Tcreate(H5T_COMPOUND, file ? size : sizeof(rf_track_row)), st = H5I_INVALID_HID;
  if (t < 0) return t;
  if ((st = status_enum ? rf__status_type(file) : H5Tcopy(H5T_NATIVE_INT32)) < 0) goto fail;
  size_t off = 0;
  for (int k = 0; k < RF__NTCOLS; k++) {
    int kind = rf__tcols[k].kind;
    hid_t mt = kind == RF__COL_S ? st
               : kind == RF__COL_I ? (file ? H5T_STD_I32LE : H5T_NATIVE_INT32)
                                   : (file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
    if (H5Tinsert(t, rf__tcols[k].name, file ? off : rf__tcols[k].off, mt) < 0) goto fail;
    off += kind == RF__COL_D ? 8 : 4;
  }
  H5Tclose(st);
  return t;
fail:
  if (st >= 0) H5Tclose(st);
  H5Tclose(t);
  return H5I_INVALID_HID;
}

/* Built in memory and written atomically (rf__h5_image_create). */
int rf_tracks_write_h5(const char *path, const rf_track_row *rows, size_t n,
                       const rf_product_info *info) {
  hid_t f, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
  rf__h5_quiet();
  if (!path || (n && !rows)) return rf__err(RF_EINVAL, "tracks: bad arguments");
  int st = rf__h5_image_create(&f, path, "radarflow.tracks", info);
  if (st) return st;
  hsize_t dims[1] = {n};
  if ((ft = rf__track_type(1, 1)) < 0 || (mt = rf__track_type(0, 1)) < 0 ||
      rf__h5_write_dset(f, "tracks", ft, mt, 1, dims, rows) < 0)
    st = rf__err(RF_EIO, "%s: cannot write: %s", path, rf__h5_errdesc());
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (st) {
    H5Fclose(f);
    return st;
  }
  return rf__h5_image_commit(f, path);
}

static int rf__tracks_read_h5(const char *path, rf_track_list *l) {
  hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID, d = H5I_INVALID_HID, t = H5I_INVALID_HID,
        mt = H5I_INVALID_HID, smt = H5I_INVALID_HID;
  hsize_t n;
  int st = 0;
  if ((fapl = rf__h5_fapl()) < 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: cannot open as HDF5: %s", path, rf__h5_errdesc());
    goto cleanup;
  }
  if ((st = rf__h5_open_dset(f, path, "/tracks", "tracks", &d, NULL)) < 0 ||
      (st = rf__h5_dims(d, path, "/tracks", 1, &n)) < 0)
    goto cleanup;
  t = H5Dget_type(d);
  if (t < 0 || H5Tget_class(t) != H5T_COMPOUND) {
    st = rf__err(RF_EFORMAT, "%s: /tracks: must be a compound dataset", path);
    goto cleanup;
  }
  for (int k = 0; k < RF__NTCOLS; k++)
    if (H5Tget_member_index(t, rf__tcols[k].name) < 0) {
      st = rf__err(RF_EFORMAT, "%s: /tracks: missing column %s", path, rf__tcols[k].name);
      goto cleanup;
    }
  smt = H5Tget_member_type(t, (unsigned)H5Tget_member_index(t, "status"));
  int is_enum = smt >= 0 && H5Tget_class(smt) == H5T_ENUM;
  size_t bytes;
  if (n > 0) {
    if (rf__mul_size((size_t)n, sizeof(rf_track_row), &bytes) < 0 || !(l->v = rf__malloc(bytes))) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", path);
      goto cleanup;
    }
    l->cap = (size_t)n;
    if ((mt = rf__track_type(0, is_enum)) < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, l->v) < 0) {
      st = rf__err(RF_EFORMAT, "%s: /tracks: cannot read: %s", path, rf__h5_errdesc());
      goto cleanup;
    }
    l->n = (size_t)n;
    for (size_t i = 0; i < l->n; i++)
      if (!rf_track_status_name(l->v[i].status)) {
        st = rf__err(RF_EFORMAT, "%s: /tracks: row %zu: status %d is not 0..3", path, i, (int)l->v[i].status);
        goto cleanup;
      }
  }
cleanup:
  if (smt >= 0) H5Tclose(smt);
  if (mt >= 0) H5Tclose(mt);
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  if (fapl >= 0) H5Pclose(fapl);
  return st;
}

/* ---- CSV ------------------------------------------------------------------------- */
static int rf__csv_header_line(char *buf, size_t len) {
  size_t o = 0;
  for (int k = 0; k < RF__NTCOLS; k++) {
    int w = snprintf(buf + o, len - o, "%s%s", k ? "," : "", rf__tcols[k].name);
    if (w < 0 || (size_t)w >= len - o) return -1;
    o += (size_t)w;
  }
  return 0;
}

size_t rf_tracks_csv_row(char *buf, const rf_track_row *r) {
  char *o = buf;
  for (int k = 0; k < RF__NTCOLS; k++) {
    const char *p = (const char *)r + rf__tcols[k].off;
    if (k) *o++ = ',';
    switch (rf__tcols[k].kind) {
    case RF__COL_D: o += rf__fmt_double(o, *(const double *)p); break;
    case RF__COL_I: o += snprintf(o, 16, "%d", (int)*(const int32_t *)p); break;
    default: {
      const char *w = rf_track_status_name(*(const int32_t *)p);
      size_t l = strlen(w ? w : "deleted");
      memcpy(o, w ? w : "deleted", l);
      o += l;
    }
    }
  }
  *o++ = '\n';
  return (size_t)(o - buf);
}

/* Writes rows as CSV lines to fp through buf (RF__CSV_BUF bytes); 0 or -1. */
#define RF__CSV_BUF ((size_t)256 << 10)
static int rf__csv_rows(FILE *fp, char *buf, const rf_track_row *rows, size_t n) {
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    if (used + RF_TRACK_CSV_ROW_MAX > RF__CSV_BUF) {
      if (fwrite(buf, 1, used, fp) != used) return -1;
      used = 0;
    }
    used += rf_tracks_csv_row(buf + used, &rows[i]);
  }
  return used && fwrite(buf, 1, used, fp) != used ? -1 : 0;
}

int rf_tracks_write_csv(const char *path, const rf_track_row *rows, size_t n) {
  char *tmp = NULL, header[1024], *buf = NULL;
  FILE *fp = NULL;
  int st = 0;
  if (!path || (n && !rows)) return rf__err(RF_EINVAL, "tracks: bad arguments");
  rf__csv_header_line(header, sizeof header);
  if (!(tmp = rf__tmp_path(path)) || !(buf = rf__malloc(RF__CSV_BUF))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  errno = 0;
  if (!(fp = fopen(tmp, "w"))) goto fail;
  if (fprintf(fp, "%s\n", header) < 0 || rf__csv_rows(fp, buf, rows, n) < 0) goto fail;
  if (fflush(fp) != 0 || ferror(fp)) goto fail;
  int cr = fclose(fp);
  fp = NULL;
  if (cr != 0) goto fail;
  st = rf__commit_tmp(tmp, path);
  rf__free(tmp);
  tmp = NULL;
  goto cleanup;
fail:
  st = rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
cleanup:
  if (fp) fclose(fp);
  if (tmp) unlink(tmp);
  rf__free(tmp);
  rf__free(buf);
  return st;
}

/* ---- streaming writer ------------------------------------------------------------- */
/* Rows per HDF5 chunk and per append. */
#define RF__H5_CHUNK_ROWS 4096

struct rf_tracks_writer {
  char *path[2], *tmp[2];          /* tracks.h5, tracks.csv */
  hid_t file, dset, ftype, mtype;
  FILE *csv;
  char *buf;                       /* CSV output buffer */
  rf_track_row *pend;              /* rows not yet in the HDF5 dataset */
  size_t npend;
  hsize_t nrows;
};

static void rf__tw_free(rf_tracks_writer *w) {
  if (w->dset >= 0) H5Dclose(w->dset);
  if (w->ftype >= 0) H5Tclose(w->ftype);
  if (w->mtype >= 0) H5Tclose(w->mtype);
  if (w->file >= 0) H5Fclose(w->file);
  if (w->csv) fclose(w->csv);
  for (int k = 0; k < 2; k++) {
    if (w->tmp[k]) unlink(w->tmp[k]);
    rf__free(w->tmp[k]);
    rf__free(w->path[k]);
  }
  rf__free(w->buf);
  rf__free(w->pend);
  rf__free(w);
}

void rf_tracks_writer_abort(rf_tracks_writer *w) {
  if (w) rf__tw_free(w);
}

static int rf__tw_h5_flush(rf_tracks_writer *w) {
  if (!w->npend) return 0;
  hsize_t start = w->nrows, count = w->npend, dims = w->nrows + w->npend;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
  int ok = H5Dset_extent(w->dset, &dims) >= 0 && (fs = H5Dget_space(w->dset)) >= 0 &&
           H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
           (ms = H5Screate_simple(1, &count, NULL)) >= 0 &&
           H5Dwrite(w->dset, w->mtype, ms, fs, H5P_DEFAULT, w->pend) >= 0;
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  if (!ok) return rf__err(RF_EIO, "%s: /tracks: cannot write: %s", w->path[0], rf__io_reason());
  w->nrows = dims;
  w->npend = 0;
  return 0;
}

int rf_tracks_writer_create(rf_tracks_writer **out, const char *h5_path, const char *csv_path,
                            const rf_product_info *info) {
  *out = NULL;
  rf__h5_quiet();
  rf_tracks_writer *w = rf__calloc(1, sizeof *w);
  if (!w) return rf__err(RF_ENOMEM, "%s: out of memory", h5_path);
  w->file = w->dset = w->ftype = w->mtype = H5I_INVALID_HID;
  const char *paths[2] = {h5_path, csv_path};
  int st = 0;
  for (int k = 0; k < 2; k++) {
    size_t l = strlen(paths[k]) + 1;
    if (!(w->path[k] = rf__malloc(l)) || !(w->tmp[k] = rf__tmp_path(paths[k]))) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", paths[k]);
      goto fail;
    }
    memcpy(w->path[k], paths[k], l);
  }
  if (!(w->buf = rf__malloc(RF__CSV_BUF)) || !(w->pend = rf__malloc(RF__H5_CHUNK_ROWS * sizeof *w->pend))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", h5_path);
    goto fail;
  }
  /* tracks.h5: /tracks chunked and unlimited, so it grows as rows come. */
  hid_t fcpl = rf__h5_fcpl(), fapl = rf__h5_fapl(), dcpl = H5Pcreate(H5P_DATASET_CREATE), sp = H5I_INVALID_HID;
  hsize_t zero = 0, unl = H5S_UNLIMITED, chunk = RF__H5_CHUNK_ROWS;
  errno = 0;
  int ok = fcpl >= 0 && fapl >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
           H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
           (w->file = H5Fcreate(w->tmp[0], H5F_ACC_TRUNC, fcpl, fapl)) >= 0 &&
           rf__h5_product_attrs(w->file, "radarflow.tracks", info) >= 0 &&
           (w->ftype = rf__track_type(1, 1)) >= 0 && (w->mtype = rf__track_type(0, 1)) >= 0 &&
           (sp = H5Screate_simple(1, &zero, &unl)) >= 0 &&
           (w->dset = H5Dcreate2(w->file, "tracks", w->ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0;
  if (sp >= 0) H5Sclose(sp);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (!ok) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", h5_path, rf__io_reason());
    goto fail;
  }
  char header[1024];
  rf__csv_header_line(header, sizeof header);
  errno = 0;
  if (!(w->csv = fopen(w->tmp[1], "w")) || fprintf(w->csv, "%s\n", header) < 0) {
    st = rf__err(RF_EIO, "%s: cannot write: %s", csv_path, strerror(errno ? errno : EIO));
    goto fail;
  }
  *out = w;
  return 0;
fail:
  rf__tw_free(w);
  return st;
}

int rf_tracks_writer_add(rf_tracks_writer *w, const rf_track_row *rows, size_t n) {
  errno = 0;
  if (rf__csv_rows(w->csv, w->buf, rows, n) < 0)
    return rf__err(RF_EIO, "%s: cannot write: %s", w->path[1], strerror(errno ? errno : EIO));
  for (size_t i = 0; i < n; i++) {
    w->pend[w->npend++] = rows[i];
    int st;
    if (w->npend == RF__H5_CHUNK_ROWS && (st = rf__tw_h5_flush(w))) return st;
  }
  return 0;
}

int rf_tracks_writer_commit(rf_tracks_writer *w) {
  int st = rf__tw_h5_flush(w);
  errno = 0;
  if (!st && (H5Dclose(w->dset) < 0 || (w->dset = H5I_INVALID_HID, H5Fclose(w->file) < 0)))
    st = rf__err(RF_EIO, "%s: cannot write: %s", w->path[0], rf__io_reason());
  w->dset = w->file = H5I_INVALID_HID;
  if (!st) {
    int bad = fflush(w->csv) != 0 || ferror(w->csv);
    int cr = fclose(w->csv);
    w->csv = NULL;
    if (bad || cr) st = rf__err(RF_EIO, "%s: cannot write: %s", w->path[1], strerror(errno ? errno : EIO));
  }
  for (int k = 0; k < 2 && !st; k++) {
    st = rf__commit_tmp(w->tmp[k], w->path[k]);
    rf__free(w->tmp[k]);
    w->tmp[k] = NULL;
    if (st && k == 1) remove(w->path[0]); /* both or neither */
  }
  rf__tw_free(w);
  return st;
}

/* One CSV row into r; 0, or -1 - k - 1 naming the bad column k. */
static int rf__parse_track_row(char *s, rf_track_row *r) {
  for (int k = 0; k < RF__NTCOLS; k++) {
    char *end, *p = (char *)r + rf__tcols[k].off;
    errno = 0;
    if (rf__tcols[k].kind == RF__COL_D) {
      *(double *)p = strtod(s, &end);
    } else if (rf__tcols[k].kind == RF__COL_I) {
      long v = strtol(s, &end, 10);
      if (errno || v < INT32_MIN || v > INT32_MAX) return -1 - k;
      *(int32_t *)p = (int32_t)v;
    } else {
      end = s;
      while (*end && *end != ',') end++;
      int found = -1;
      for (int w = 0; w < 4; w++)
        if ((size_t)(end - s) == strlen(rf__status_names[w]) &&
            strncmp(s, rf__status_names[w], (size_t)(end - s)) == 0)
          found = w;
      if (found < 0) return -1 - k;
      *(int32_t *)p = found;
    }
    if (end == s || *end != (k + 1 < RF__NTCOLS ? ',' : '\0')) return -1 - k;
    s = end + 1;
  }
  return 0;
}

static int rf__tracks_read_csv(const char *path, rf_track_list *l) {
  FILE *fp = fopen(path, "r");
  char line[RF_TRACK_CSV_LINE_MAX], header[1024];
  rf__c_locale loc;
  size_t lineno = 0;
  int st = 0;
  if (!fp) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  if (rf__c_locale_enter(&loc) < 0) {
    fclose(fp);
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  }
  rf__csv_header_line(header, sizeof header);
  while (fgets(line, sizeof line, fp)) {
    size_t len = strlen(line);
    lineno++;
    if (len == 0 || line[len - 1] != '\n') {
      if (!feof(fp) || len + 1 >= sizeof line) {
        st = rf__err(RF_EFORMAT, "%s: line %zu: too long", path, lineno);
        break;
      }
    } else {
      line[--len] = 0;
    }
    if (len && line[len - 1] == '\r') line[--len] = 0;
    if (lineno == 1) {
      if (strcmp(line, header) != 0) {
        st = rf__err(RF_EFORMAT, "%s: line 1: header must be \"%s\"", path, header);
        break;
      }
      continue;
    }
    if (len == 0) continue;
    rf_track_row r;
    int bad = rf__parse_track_row(line, &r);
    if (bad < 0) {
      st = rf__err(RF_EFORMAT, "%s: line %zu: column %s: bad value", path, lineno, rf__tcols[-bad - 1].name);
      break;
    }
    if ((st = rf_track_list_push(l, &r)) < 0) break;
  }
  if (st == 0 && ferror(fp)) st = rf__err(RF_EFORMAT, "%s: cannot read: %s", path, strerror(errno));
  if (st == 0 && lineno == 0) st = rf__err(RF_EFORMAT, "%s: line 1: missing header", path);
  rf__c_locale_leave(&loc);
  fclose(fp);
  return st;
}

int rf_tracks_read(const char *path, rf_track_list *out) {
  rf_track_list l = {0};
  int st;
  rf__h5_quiet();
  if (rf__has_ext(path, ".h5")) st = rf__tracks_read_h5(path, &l);
  else if (rf__has_ext(path, ".csv")) st = rf__tracks_read_csv(path, &l);
  else return rf__err(RF_EINVAL, "%s: track file name must end in .h5 or .csv", path);
  if (st < 0) {
    rf_track_list_free(&l);
    return st;
  }
  rf_track_list_free(out);
  *out = l;
  return 0;
}
