/* radarflow io/: the files a capture's samples come from (external raw
 * storage, virtual datasets), resolved against the capture's folder, and
 * the storage facts `radarflow inspect` prints. See rf_capture_sources.h. */
#include "capture_sources.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "h5util.h"
#include "../host/rf_files.h"

/* ---- paths --------------------------------------------------------------------- */
char *rf__path_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return rf__strdup(".");
  if (slash == path) return rf__strdup("/");
  size_t n = (size_t)(slash - path);
  char *d = rf__malloc(n + 1);
  if (d) {
    memcpy(d, path, n);
    d[n] = 0;
  }
  return d;
}

char *rf__path_join(const char *dir, const char *name) {
  if (name[0] == '/' || !dir || !dir[0]) return rf__strdup(name);
  size_t a = strlen(dir), b = strlen(name);
  char *p = rf__malloc(a + b + 2);
  if (p) snprintf(p, a + b + 2, "%s%s%s", dir, dir[a - 1] == '/' ? "" : "/", name);
  return p;
}

int rf__path_inside(const char *dir, const char *path) { return rf_path_within(dir, path); }

int rf__same_file(const char *a, const char *b) {
  struct stat x, y;
  return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* ---- HDF5 access ------------------------------------------------------------------ */
void rf__h5_origin_prefix(void) {
  static int done;
  if (done) return;
  done = 1;
  setenv("HDF5_EXTFILE_PREFIX", "${ORIGIN}", 1);
  setenv("HDF5_VDS_PREFIX", "${ORIGIN}", 1);
}

/* HDF5 1.10 reads both variables once, when it initialises (the first HDF5
 * call of the process), so they are set when the program is loaded. */
__attribute__((constructor)) static void rf__h5_origin_prefix_at_load(void) { rf__h5_origin_prefix(); }

hid_t rf__iq_dapl(size_t cache_slots, size_t cache_bytes) {
  hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
  if (dapl < 0) return H5I_INVALID_HID;
  if (H5Pset_chunk_cache(dapl, cache_slots, cache_bytes, 1.0) < 0 ||
      H5Pset_efile_prefix(dapl, "${ORIGIN}") < 0 || H5Pset_virtual_prefix(dapl, "${ORIGIN}") < 0) {
    H5Pclose(dapl);
    return H5I_INVALID_HID;
  }
  return dapl;
}

/* HDF5 reads '%' in virtual source names as printf-style ("%%" is one '%'). */
static void rf__vds_unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '%' && r[1] == '%') r++;
    *w++ = *r;
  }
  *w = 0;
}

typedef struct rf__srclist {
  rf_iq_source *v;
  size_t n, cap;
  const char *dir; /* the capture's folder */
} rf__srclist;

static int rf__src_add(rf__srclist *l, int kind, const char *name, const char *dataset,
                       uint64_t bytes_needed) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == kind && !strcmp(l->v[i].name, name)) {
      if (bytes_needed > l->v[i].bytes_needed) l->v[i].bytes_needed = bytes_needed;
      return 0;
    }
  if (l->n == l->cap) {
    size_t nc = l->cap ? 2 * l->cap : 4;
    rf_iq_source *nv = rf__realloc(l->v, nc * sizeof *nv);
    if (!nv) return RF_ENOMEM;
    l->v = nv;
    l->cap = nc;
  }
  rf_iq_source *s = &l->v[l->n];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->bytes_needed = bytes_needed;
  s->size_bytes = -1;
  s->name = rf__strdup(name);
  s->path = rf__path_join(l->dir, name);
  s->dataset = dataset ? rf__strdup(dataset) : NULL;
  l->n++;
  if (!s->name || !s->path || (dataset && !s->dataset)) return RF_ENOMEM;
  struct stat sb;
  if (stat(s->path, &sb) == 0) {
    s->size_bytes = (int64_t)sb.st_size;
    s->regular = S_ISREG(sb.st_mode);
  }
  s->inside = rf__path_inside(l->dir, s->path);
  return 0;
}

void rf__iq_sources_free(rf_iq_source *src, size_t n) {
  for (size_t i = 0; src && i < n; i++) {
    rf__free(src[i].name);
    rf__free(src[i].path);
    rf__free(src[i].dataset);
  }
  rf__free(src);
}

/* The external raw storage segments of dcpl, added to l; their count. */
static int rf__efl_add(rf__srclist *l, hid_t dcpl, size_t *count) {
  int n = H5Pget_external_count(dcpl);
  if (count) *count = n > 0 ? (size_t)n : 0;
  for (int i = 0; i < n; i++) {
    char name[PATH_MAX];
    off_t off = 0;
    hsize_t size = 0;
    if (H5Pget_external(dcpl, (unsigned)i, sizeof name, name, &off, &size) < 0) return RF_EFORMAT;
    name[sizeof name - 1] = 0;
    uint64_t end = (uint64_t)off + (size == H5F_UNLIMITED ? 0 : (uint64_t)size);
    int st = rf__src_add(l, RF_IQ_EXTERNAL, name, NULL, end);
    if (st) return st;
  }
  return 0;
}

/* Virtual mapping i of dcpl: source file and dataset names, rf__malloc'd and
 * unescaped. */
static int rf__vds_names(hid_t dcpl, size_t i, char **file, char **dset) {
  *file = *dset = NULL;
  ssize_t nf = H5Pget_virtual_filename(dcpl, i, NULL, 0);
  ssize_t nd = H5Pget_virtual_dsetname(dcpl, i, NULL, 0);
  if (nf < 0 || nd < 0) return RF_EFORMAT;
  *file = rf__malloc((size_t)nf + 1);
  *dset = rf__malloc((size_t)nd + 1);
  if (!*file || !*dset) return RF_ENOMEM;
  if (H5Pget_virtual_filename(dcpl, i, *file, (size_t)nf + 1) < 0 ||
      H5Pget_virtual_dsetname(dcpl, i, *dset, (size_t)nd + 1) < 0)
    return RF_EFORMAT;
  rf__vds_unescape(*file);
  rf__vds_unescape(*dset);
  return 0;
}

int rf__iq_sources(hid_t file, hid_t iq, const char *path, int *storage, size_t *mappings,
                   size_t *segments, rf_iq_source **src, size_t *nsrc) {
  rf__srclist l = {0};
  hid_t dcpl = H5I_INVALID_HID;
  char *dir = rf__path_dirname(path), *fname = NULL, *dname = NULL;
  int st = 0;
  *src = NULL;
  *nsrc = 0;
  *storage = RF_IQ_CONTIGUOUS;
  *mappings = *segments = 0;
  if (!dir) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  l.dir = dir;
  if ((dcpl = H5Dget_create_plist(iq)) < 0) goto h5fail;
  H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout == H5D_CHUNKED) {
    *storage = RF_IQ_CHUNKED;
  } else if (layout == H5D_COMPACT) {
    *storage = RF_IQ_COMPACT;
  } else if (layout == H5D_CONTIGUOUS && H5Pget_external_count(dcpl) > 0) {
    *storage = RF_IQ_EXTERNAL;
    if ((st = rf__efl_add(&l, dcpl, segments))) goto fail;
  } else if (layout == H5D_VIRTUAL) {
    *storage = RF_IQ_VIRTUAL;
    size_t n = 0;
    if (H5Pget_virtual_count(dcpl, &n) < 0) goto h5fail;
    *mappings = n;
    /* Same-file sources are listed by their own external storage, once. */
    char *last_same = NULL;
    for (size_t i = 0; i < n && !st; i++) {
      rf__free(fname);
      rf__free(dname);
      if ((st = rf__vds_names(dcpl, i, &fname, &dname))) break;
      if (strcmp(fname, ".") != 0) {
        st = rf__src_add(&l, RF_IQ_VIRTUAL, fname, dname, 0);
        continue;
      }
      if (last_same && !strcmp(last_same, dname)) continue;
      rf__free(last_same);
      if (!(last_same = rf__strdup(dname))) {
        st = RF_ENOMEM;
        break;
      }
      hid_t s = H5Lexists(file, dname, H5P_DEFAULT) > 0 ? H5Dopen2(file, dname, H5P_DEFAULT)
                                                        : H5I_INVALID_HID;
      if (s < 0) continue; /* rf__iq_sources_check reports it */
      hid_t sp = H5Dget_create_plist(s);
      if (sp >= 0) {
        st = rf__efl_add(&l, sp, NULL);
        H5Pclose(sp);
      }
      H5Dclose(s);
    }
    rf__free(last_same);
    if (st) goto fail;
  }
  H5Pclose(dcpl);
  rf__free(fname);
  rf__free(dname);
  rf__free(dir);
  *src = l.v;
  *nsrc = l.n;
  return 0;
h5fail:
  st = RF_EFORMAT;
fail:
  if (dcpl >= 0) H5Pclose(dcpl);
  rf__free(fname);
  rf__free(dname);
  rf__free(dir);
  rf__iq_sources_free(l.v, l.n);
  if (st == RF_ENOMEM) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  return rf__err(RF_EFORMAT, "%s: /iq: cannot read its storage layout: %s", path, rf__h5_errdesc());
}

/* A source dataset must exist and cover the mapped selection (its bounds). */
static int rf__cover_check(hid_t f, const char *dname, hid_t srcspace, const char *path,
                           const char *shown) {
  hid_t d = H5I_INVALID_HID, s = H5I_INVALID_HID;
  int st = 0;
  htri_t ex = H5Lexists(f, dname, H5P_DEFAULT);
  if (ex <= 0 || (d = H5Dopen2(f, dname, H5P_DEFAULT)) < 0)
    return rf__err(RF_EFORMAT, "%s: /iq: virtual dataset source %s has no dataset %s", path, shown, dname);
  hsize_t lo[H5S_MAX_RANK], hi[H5S_MAX_RANK], dims[H5S_MAX_RANK];
  int rank = H5Sget_simple_extent_ndims(srcspace);
  /* A whole-dataset ("all") selection is stored without an extent: HDF5
   * takes the source's own; nothing more to check. */
  if (rank < 1 || H5Sget_select_type(srcspace) == H5S_SEL_ALL) {
    H5Dclose(d);
    return 0;
  }
  s = H5Dget_space(d);
  if (s < 0 || H5Sget_simple_extent_ndims(s) != rank ||
      H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
    st = rf__err(RF_EFORMAT, "%s: /iq: virtual dataset source %s: %s does not have the mapped rank %d", path,
                 shown, dname, rank);
  } else if (H5Sget_select_npoints(srcspace) > 0 && H5Sget_select_bounds(srcspace, lo, hi) >= 0) {
    for (int k = 0; k < rank; k++)
      if (hi[k] >= dims[k]) {
        st = rf__err(RF_EFORMAT, "%s: /iq: virtual dataset source %s: %s has %llu elements along axis %d; "
                     "the capture maps up to index %llu",
                     path, shown, dname, (unsigned long long)dims[k], k, (unsigned long long)hi[k]);
        break;
      }
  }
  if (s >= 0) H5Sclose(s);
  H5Dclose(d);
  return st;
}

/* External storage over another HDF5 file's dataset bytes (import of a
 * contiguous complex compound): that dataset must still begin where it did,
 * or the file was rewritten and the bytes are something else. */
static int rf__h5_bytes_check(hid_t d, const char *path, const char *what) {
  if (H5Aexists(d, "hdf5_dataset") <= 0) return 0;
  char dset[1024], name[PATH_MAX];
  double want = 0;
  int st = 0;
  hid_t dcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID, f = H5I_INVALID_HID, s = H5I_INVALID_HID;
  char *dir = NULL, *full = NULL;
  off_t off;
  hsize_t size;
  if ((st = rf__h5_attr_string(d, path, what, "hdf5_dataset", dset, sizeof dset, NULL)) ||
      (st = rf__h5_attr_double(d, path, what, "hdf5_data_offset", &want, NULL)))
    return st;
  if ((dcpl = H5Dget_create_plist(d)) < 0 || H5Pget_external(dcpl, 0, sizeof name, name, &off, &size) < 0) {
    st = rf__err(RF_EFORMAT, "%s: %s: hdf5_dataset given but no external storage", path, what);
    goto cleanup;
  }
  name[sizeof name - 1] = 0;
  if (!(dir = rf__path_dirname(path)) || !(full = rf__path_join(dir, name))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  haddr_t now = HADDR_UNDEF;
  if ((fapl = rf__h5_fapl()) >= 0 && (f = H5Fopen(full, H5F_ACC_RDONLY, fapl)) >= 0 &&
      H5Lexists(f, dset, H5P_DEFAULT) > 0 && (s = H5Dopen2(f, dset, H5P_DEFAULT)) >= 0)
    now = H5Dget_offset(s);
  if (now == HADDR_UNDEF || (double)now != want)
    st = rf__err(RF_EFORMAT, "%s: %s: %s was changed after the import: its dataset %s no longer holds its samples "
                 "at byte %.0f (import the recording again)", path, what, full, dset, want);
cleanup:
  H5Eclear2(H5E_DEFAULT);
  if (s >= 0) H5Dclose(s);
  if (f >= 0) H5Fclose(f);
  if (fapl >= 0) H5Pclose(fapl);
  if (dcpl >= 0) H5Pclose(dcpl);
  rf__free(dir);
  rf__free(full);
  return st;
}

/* Appends a copy of p to the list; RF_ENOMEM naming the capture. */
static int rf__paths_add(char ***paths, size_t *n, const char *p, const char *capture) {
  if (!paths) return 0;
  char **v = rf__realloc(*paths, (*n + 1) * sizeof *v);
  if (!v) return rf__err(RF_ENOMEM, "%s: out of memory", capture);
  *paths = v;
  if (!(v[*n] = rf__strdup(p))) return rf__err(RF_ENOMEM, "%s: out of memory", capture);
  (*n)++;
  return 0;
}

int rf__iq_sources_check(hid_t file, hid_t iq, const char *path, int allow_external, char ***paths,
                         size_t *npaths) {
  rf_iq_source *src = NULL;
  size_t nsrc = 0, mappings = 0, segments = 0;
  int storage, st;
  hid_t dcpl = H5I_INVALID_HID, other = H5I_INVALID_HID, fapl = H5I_INVALID_HID;
  char *fname = NULL, *dname = NULL, *open_name = NULL, *checked = NULL;
  if ((st = rf__iq_sources(file, iq, path, &storage, &mappings, &segments, &src, &nsrc))) return st;
  for (size_t i = 0; i < nsrc && !st; i++) {
    const rf_iq_source *s = &src[i];
    const char *what = s->kind == RF_IQ_EXTERNAL ? "external raw storage file" : "virtual dataset source";
    if (s->size_bytes < 0)
      st = rf__err(RF_EFORMAT, "%s: /iq: %s %s is missing (the capture names \"%s\"; relative names are "
                   "resolved against the capture's folder)", path, what, s->path, s->name);
    else if (!s->regular)
      st = rf__err(RF_EFORMAT, "%s: /iq: %s %s is not a regular file (a FIFO or device is never read)", path,
                   what, s->path);
    else if (!s->inside && !allow_external)
      st = rf__err(RF_EFORMAT, "%s: /iq: %s %s lies outside the capture's folder; radarflow reads files outside "
                   "it only with --allow-external", path, what, s->path);
    else
      st = rf__paths_add(paths, npaths, s->path, path);
    if (st) break;
    if (s->kind == RF_IQ_EXTERNAL && (uint64_t)s->size_bytes < s->bytes_needed)
      st = rf__err(RF_EFORMAT, "%s: /iq: %s %s has %lld bytes; the capture reads up to byte %llu (was it "
                   "truncated or rewritten?)", path, what, s->path, (long long)s->size_bytes,
                   (unsigned long long)s->bytes_needed);
  }
  if (!st && storage == RF_IQ_EXTERNAL) st = rf__h5_bytes_check(iq, path, "/iq");
  if (st || storage != RF_IQ_VIRTUAL) goto cleanup;
  if ((dcpl = H5Dget_create_plist(iq)) < 0 || (fapl = rf__h5_fapl()) < 0) {
    st = rf__err(RF_EFORMAT, "%s: /iq: cannot read its storage layout: %s", path, rf__h5_errdesc());
    goto cleanup;
  }
  char *dir = rf__path_dirname(path);
  for (size_t i = 0; i < mappings && !st; i++) {
    rf__free(fname);
    rf__free(dname);
    hid_t ss = H5I_INVALID_HID;
    if ((st = rf__vds_names(dcpl, i, &fname, &dname)) || (ss = H5Pget_virtual_srcspace(dcpl, i)) < 0) {
      st = st == RF_ENOMEM ? rf__err(RF_ENOMEM, "%s: out of memory", path)
                           : rf__err(RF_EFORMAT, "%s: /iq: cannot read virtual mapping %zu: %s", path, i,
                                     rf__h5_errdesc());
      break;
    }
    hid_t f = file;
    char *shown = NULL;
    if (strcmp(fname, ".") != 0) {
      shown = rf__path_join(dir, fname);
      if (!shown) {
        st = rf__err(RF_ENOMEM, "%s: out of memory", path);
      } else if (rf__same_file(shown, path)) {
        /* The capture named by its file name: its own handle (a second
         * open closed with H5F_CLOSE_STRONG would close /iq). */
        f = file;
        rf__free(shown);
        shown = NULL;
      } else if (!open_name || strcmp(open_name, shown)) {
        if (other >= 0) H5Fclose(other);
        rf__free(open_name);
        open_name = rf__strdup(shown);
        other = H5Fopen(shown, H5F_ACC_RDONLY, fapl);
        if (other < 0)
          st = rf__err(RF_EFORMAT, "%s: /iq: virtual dataset source %s cannot be opened as HDF5: %s", path,
                       shown, rf__h5_errdesc());
      }
      if (shown) f = other;
    }
    if (!st) st = rf__cover_check(f, dname, ss, path, shown ? shown : "(this file)");
    if (!st && f == file && (!checked || strcmp(dname, checked))) {
      /* A raw-storage view of this file over another HDF5 file's bytes. */
      hid_t sd = H5Dopen2(file, dname, H5P_DEFAULT);
      if (sd >= 0) {
        st = rf__h5_bytes_check(sd, path, dname);
        H5Dclose(sd);
      }
      rf__free(checked);
      if (!(checked = rf__strdup(dname)) && !st) st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    }
    rf__free(shown);
    H5Sclose(ss);
  }
  rf__free(dir);
cleanup:
  if (other >= 0) H5Fclose(other);
  if (fapl >= 0) H5Pclose(fapl);
  if (dcpl >= 0) H5Pclose(dcpl);
  rf__free(open_name);
  rf__free(checked);
  rf__free(fname);
  rf__free(dname);
  rf__iq_sources_free(src, nsrc);
  return st;
}


/* ---- external links ------------------------------------------------------------------ */
typedef struct rf__links {
  const char *path, *dir;
  int allow_external, st;
  char ***paths;
  size_t *npaths;
  size_t visited;
} rf__links;

/* Links visited at most (a corrupt file may claim absurd numbers). */
#define RF__MAX_LINKS 100000

static herr_t rf__link_cb(hid_t g, const char *name, const H5L_info_t *info, void *op) {
  rf__links *l = op;
  if (++l->visited > RF__MAX_LINKS) {
    l->st = rf__err(RF_EFORMAT, "%s: more than %d links: not a capture (corrupt file?)", l->path, RF__MAX_LINKS);
    return -1;
  }
  if (info->type != H5L_TYPE_EXTERNAL) return 0;
  size_t n = info->u.val_size;
  char *buf = n > 0 && n < 65536 ? rf__malloc(n) : NULL, *full = NULL;
  const char *file = NULL, *obj = NULL;
  unsigned flags = 0;
  if (!buf || H5Lget_val(g, name, buf, n, H5P_DEFAULT) < 0 || H5Lunpack_elink_val(buf, n, &flags, &file, &obj) < 0 ||
      !file) {
    l->st = rf__err(RF_EFORMAT, "%s: /%s: external link cannot be read (corrupt file?)", l->path, name);
    goto done;
  }
  if (!(full = rf__path_join(l->dir, file))) {
    l->st = rf__err(RF_ENOMEM, "%s: out of memory", l->path);
    goto done;
  }
  struct stat sb;
  if (stat(full, &sb) < 0)
    l->st = rf__err(RF_EFORMAT, "%s: /%s: external link to %s: %s", l->path, name, full, strerror(errno));
  else if (!S_ISREG(sb.st_mode))
    l->st = rf__err(RF_EFORMAT, "%s: /%s: external link to %s, which is not a regular file (a FIFO or device is "
                    "never opened)", l->path, name, full);
  else if (!l->allow_external && !rf_path_within(l->dir, full))
    l->st = rf__err(RF_EFORMAT, "%s: /%s: external link to %s, outside the capture's folder; radarflow follows "
                    "such links only with --allow-external", l->path, name, full);
  else
    l->st = rf__paths_add(l->paths, l->npaths, full, l->path);
done:
  rf__free(full);
  rf__free(buf);
  return l->st ? -1 : 0;
}

int rf__links_check(hid_t file, const char *path, int allow_external, char ***paths, size_t *npaths) {
  char *dir = rf__path_dirname(path);
  if (!dir) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  rf__links l = {.path = path, .dir = dir, .allow_external = allow_external, .paths = paths, .npaths = npaths};
  herr_t r = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_NATIVE, rf__link_cb, &l);
  rf__free(dir);
  if (l.st) return l.st;
  if (r < 0) return rf__err(RF_EFORMAT, "%s: cannot list its objects (corrupt file?): %s", path, rf__h5_errdesc());
  return 0;
}

/* ---- storage facts for inspect ------------------------------------------------------ */
const char *rf_iq_storage_name(int s) {
  switch (s) {
  case RF_IQ_CONTIGUOUS: return "contiguous";
  case RF_IQ_CHUNKED: return "chunked";
  case RF_IQ_COMPACT: return "compact";
  case RF_IQ_EXTERNAL: return "external raw storage";
  case RF_IQ_VIRTUAL: return "virtual dataset";
  default: return "unknown";
  }
}

/* A 1-D string attribute (fixed or variable length) into a string array. */
static int rf__attr_strings(hid_t loc, const char *name, char ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (H5Aexists(loc, name) <= 0) return 0;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID,
        mt = H5I_INVALID_HID;
  char **v = NULL, *fixed = NULL;
  int st = 0;
  hssize_t np = 0;
  if (a < 0 || (t = H5Aget_type(a)) < 0 || (s = H5Aget_space(a)) < 0 || H5Tget_class(t) != H5T_STRING) {
    st = RF_EFORMAT;
    goto cleanup;
  }
  np = H5Sget_simple_extent_npoints(s);
  if (np < 0 || (mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0) {
    st = RF_EFORMAT;
    goto cleanup;
  }
  size_t k = (size_t)np;
  if (!(*out = rf__calloc(k ? k : 1, sizeof **out))) {
    st = RF_ENOMEM;
    goto cleanup;
  }
  if (H5Tis_variable_str(t) > 0) {
    if (!(v = rf__calloc(k ? k : 1, sizeof *v)) || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
        H5Aread(a, mt, v) < 0) {
      st = v ? RF_EFORMAT : RF_ENOMEM;
      goto cleanup;
    }
    for (size_t i = 0; i < k && !st; i++)
      if (!((*out)[i] = rf__strdup(v[i] ? v[i] : ""))) st = RF_ENOMEM;
    H5Dvlen_reclaim(mt, s, H5P_DEFAULT, v);
  } else {
    size_t len = H5Tget_size(t);
    if (!(fixed = rf__calloc(k ? k : 1, len + 1)) || H5Tset_size(mt, len + 1) < 0 ||
        H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 || H5Aread(a, mt, fixed) < 0) {
      st = fixed ? RF_EFORMAT : RF_ENOMEM;
      goto cleanup;
    }
    for (size_t i = 0; i < k && !st; i++)
      if (!((*out)[i] = rf__strdup(fixed + i * (len + 1)))) st = RF_ENOMEM;
  }
  *n = k;
cleanup:
  rf__free(v);
  rf__free(fixed);
  if (mt >= 0) H5Tclose(mt);
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  if (st) {
    for (size_t i = 0; *out && i < (size_t)(np > 0 ? np : 0); i++) rf__free((*out)[i]);
    rf__free(*out);
    *out = NULL;
    *n = 0;
  }
  return st;
}

static void rf__type_name(hid_t t, char *buf, size_t len) {
  H5T_class_t c = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  const char *order = H5Tget_order(t) == H5T_ORDER_BE ? "big-endian" : "little-endian";
  if (c == H5T_INTEGER)
    snprintf(buf, len, "%sint%zu %s", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", 8 * sz, order);
  else if (c == H5T_FLOAT)
    snprintf(buf, len, "float%zu %s", 8 * sz, order);
  else
    snprintf(buf, len, "other (class %d, %zu bytes)", (int)c, sz);
}

/* Optional [dwells] float dataset of /dwell. */
static int rf__opt_dwell_array(hid_t file, const char *name, double **out, size_t *n) {
  char full[64];
  snprintf(full, sizeof full, "/dwell/%s", name);
  *out = NULL;
  if (H5Lexists(file, "dwell", H5P_DEFAULT) <= 0 || H5Lexists(file, full, H5P_DEFAULT) <= 0) return 0;
  hid_t d = H5Dopen2(file, full, H5P_DEFAULT), s = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
  int st = 0;
  hsize_t dims[1];
  if (d < 0 || s < 0 || H5Sget_simple_extent_ndims(s) != 1 || H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
    st = RF_EFORMAT;
  } else if (!(*out = rf__malloc((dims[0] ? dims[0] : 1) * sizeof **out))) {
    st = RF_ENOMEM;
  } else if (dims[0] && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
    st = RF_EFORMAT;
  } else {
    *n = (size_t)dims[0];
  }
  if (st) {
    rf__free(*out);
    *out = NULL;
  }
  if (s >= 0) H5Sclose(s);
  if (d >= 0) H5Dclose(d);
  return st;
}

void rf_capture_storage_free(rf_capture_storage *s) {
  if (!s) return;
  rf__iq_sources_free(s->src, s->nsrc);
  for (size_t i = 0; i < s->nlisted; i++) rf__free(s->listed[i]);
  rf__free(s->listed);
  rf__free(s->tx_beamwidth_az_deg);
  rf__free(s->tx_beamwidth_el_deg);
  rf__free(s);
}

int rf_capture_storage_read(rf_capture_storage **out, const char *path) {
  rf_capture_storage *s = NULL;
  hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID, dapl = H5I_INVALID_HID, iq = H5I_INVALID_HID,
        t = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  int st = 0;
  struct stat sb;
  *out = NULL;
  rf__h5_quiet();
  rf__h5_origin_prefix();
  if (stat(path, &sb) < 0) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return rf__err(RF_EFORMAT, "%s: cannot open: not a regular file", path);
  if (!(s = rf__calloc(1, sizeof *s))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if ((fapl = rf__h5_fapl()) < 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: cannot open as HDF5: %s", path, rf__h5_errdesc());
    goto cleanup;
  }
  if ((st = rf__links_check(f, path, rf__capture_external_allowed(), NULL, NULL))) goto cleanup;
  if (H5Lexists(f, "iq", H5P_DEFAULT) <= 0 || (dapl = rf__iq_dapl(521, (size_t)1 << 20)) < 0 ||
      (iq = H5Dopen2(f, "iq", dapl)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: /iq: missing or cannot be opened", path);
    goto cleanup;
  }
  if ((t = H5Dget_type(iq)) < 0 || (dcpl = H5Dget_create_plist(iq)) < 0) {
    st = rf__err(RF_EFORMAT, "%s: /iq: %s", path, rf__h5_errdesc());
    goto cleanup;
  }
  rf__type_name(t, s->iq_type, sizeof s->iq_type);
  if ((st = rf__iq_sources(f, iq, path, &s->storage, &s->mappings, &s->external_segments, &s->src, &s->nsrc)))
    goto cleanup;
  if (s->storage == RF_IQ_CHUNKED) {
    hsize_t chunk[H5S_MAX_RANK];
    if (H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) > 0) s->chunk_pulses = chunk[0];
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
      unsigned flags, cfg;
      size_t ncd = 0;
      char name[64] = "";
      if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, NULL, sizeof name, name, &cfg) < 0) continue;
      size_t used = strlen(s->filters);
      snprintf(s->filters + used, sizeof s->filters - used, "%s%s", used ? ", " : "", name);
    }
  }
  if ((st = rf__attr_strings(f, "external_sources", &s->listed, &s->nlisted))) {
    st = st == RF_ENOMEM ? rf__err(RF_ENOMEM, "%s: out of memory", path)
                         : rf__err(RF_EFORMAT, "%s: /: external_sources must be a list of strings", path);
    goto cleanup;
  }
  rf__h5_attr_string(f, path, "/", "import_program", s->import_program, sizeof s->import_program, &(int){0});
  rf__h5_attr_string(f, path, "/", "import_source", s->import_source, sizeof s->import_source, &(int){0});
  rf__h5_attr_string(f, path, "/", "import_kind", s->import_kind, sizeof s->import_kind, &(int){0});
  rf__h5_attr_string(f, path, "/", "import_storage", s->import_storage, sizeof s->import_storage, &(int){0});
  size_t na = 0, ne = 0;
  if ((st = rf__opt_dwell_array(f, "tx_beamwidth_az_deg", &s->tx_beamwidth_az_deg, &na)) ||
      (st = rf__opt_dwell_array(f, "tx_beamwidth_el_deg", &s->tx_beamwidth_el_deg, &ne))) {
    st = st == RF_ENOMEM ? rf__err(RF_ENOMEM, "%s: out of memory", path)
                         : rf__err(RF_EFORMAT, "%s: /dwell/tx_beamwidth_*: must be [dwells] numbers", path);
    goto cleanup;
  }
  s->dwells = na > ne ? na : ne;
  rf_errmsg_clear();
  *out = s;
  s = NULL;
cleanup:
  if (dcpl >= 0) H5Pclose(dcpl);
  if (t >= 0) H5Tclose(t);
  if (iq >= 0) H5Dclose(iq);
  if (dapl >= 0) H5Pclose(dapl);
  if (f >= 0) H5Fclose(f);
  if (fapl >= 0) H5Pclose(fapl);
  rf_capture_storage_free(s);
  return st;
}
