/* radarflow io/: reading a virtual /iq without HDF5's per-piece source
 * reads.
 *
 * HDF5 1.10 reads each mapping of a virtual dataset through its source's
 * selection piece by piece. When /iq reorders axes (the channel axis inside
 * the fast-time axis, as in a multi-channel SigMF recording) the pieces are
 * single samples, and external raw storage opens, seeks, reads and closes
 * its file for every piece: about 20 s to read 16 MiB, 200 times slower
 * than a native capture. This reads instead, for each block of pulses,
 * each source dataset's bounding box of what the block needs in one read
 * (one range of the raw file, or whole chunks), then moves the samples in
 * memory with HDF5's own selection machinery (H5Dgather, H5Tconvert,
 * H5Dscatter): the same elements, in the same order, as HDF5's virtual
 * dataset read - tests/test_import.c compares the two.
 *
 * It applies when every mapping has the form `radarflow import` writes:
 * the /iq side one box, the source side a regular hyperslab whose first
 * axis that selects more than one index follows the pulses (one index per
 * pulse, or one block per pulse at a fixed stride) after single-index
 * axes. Any other virtual /iq is read by HDF5 as before. */
#include "capture_vds.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "capture_sources.h"
#include "h5util.h"

int rf__vds_fast_enabled = 1;

/* Raw-data chunk cache for chunked source datasets. */
#define RF__VDS_CHUNK_CACHE ((size_t)16 << 20)

typedef struct rf__vmap {
  int src;                       /* index into the plan's sources */
  int rank;                      /* of the source */
  hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK], block[H5S_MAX_RANK];
  int kp;                        /* source axis that follows the pulses */
  int per_count;                 /* 1: one count per pulse (stride apart); 0: one index per pulse */
  hsize_t d0, n;                 /* /iq pulses d0 .. d0 + n - 1 */
  int all;                       /* the source side selects the whole source ("all") */
  hsize_t dlo[4], dn[4];         /* the /iq box */
} rf__vmap;

typedef struct rf__vsrc {
  char *fname, *dname;           /* as the mapping names them ("." = the capture) */
  hid_t file;                    /* H5I_INVALID_HID: the capture's own file */
  hid_t dset, ntype;             /* open source dataset; its native type */
  int rank;
  hsize_t dims[H5S_MAX_RANK];
  /* box of the current block */
  int used;
  hsize_t lo[H5S_MAX_RANK], hi[H5S_MAX_RANK];
} rf__vsrc;

struct rf__vds {
  const char *path;
  rf__vmap *m;
  size_t nm;
  rf__vsrc *s;
  size_t ns;
  void *box, *tmp;
  size_t box_cap, tmp_cap;
};

void rf__vds_destroy(rf__vds *v) {
  if (!v) return;
  for (size_t i = 0; i < v->ns; i++) {
    rf__free(v->s[i].fname);
    rf__free(v->s[i].dname);
    if (v->s[i].ntype >= 0) H5Tclose(v->s[i].ntype);
    if (v->s[i].dset >= 0) H5Dclose(v->s[i].dset);
    if (v->s[i].file >= 0) H5Fclose(v->s[i].file);
  }
  rf__free(v->m);
  rf__free(v->s);
  rf__free(v->box);
  rf__free(v->tmp);
  rf__free(v);
}

/* One index per pulse along axis k (a box of n), or one block per pulse
 * (count n). */
static int rf__pulse_axis(const rf__vmap *m, int k, hsize_t n, int *per_count) {
  if (m->count[k] == 1 && m->block[k] == n) return *per_count = 0, 1;
  if (m->block[k] == 1 && m->stride[k] == 1 && m->count[k] == n) return *per_count = 0, 1;
  if (m->count[k] == n && m->stride[k] >= m->block[k]) return *per_count = 1, 1;
  return 0;
}

/* The source axis that follows the pulses: the first selecting more than
 * one index, after single-index axes. 0, or 1 when the mapping is not of
 * the fast form. */
static int rf__vmap_pulse_axis(rf__vmap *m) {
  m->kp = -1;
  for (int k = 0; k < m->rank && m->kp < 0; k++)
    if (m->count[k] * m->block[k] > 1) m->kp = k;
  if (m->kp < 0) {
    if (m->n != 1) return 1;
    m->kp = 0;
    m->per_count = 0;
    return 0;
  }
  return rf__pulse_axis(m, m->kp, m->n, &m->per_count) ? 0 : 1;
}

/* Reads mapping i into m; 0 when it has the fast form, 1 when not, <0 on
 * error. */
static int rf__vmap_read(hid_t dcpl, size_t i, rf__vmap *m) {
  hid_t vs = H5Pget_virtual_vspace(dcpl, i), ss = H5Pget_virtual_srcspace(dcpl, i);
  int res = 1;
  if (vs < 0 || ss < 0) {
    res = -1;
    goto done;
  }
  hsize_t lo[H5S_MAX_RANK], hi[H5S_MAX_RANK];
  hssize_t np = H5Sget_select_npoints(vs);
  if (H5Sget_simple_extent_ndims(vs) != 4 || np <= 0 || H5Sget_select_bounds(vs, lo, hi) < 0) goto done;
  hsize_t box = 1;
  for (int k = 0; k < 4; k++) {
    m->dlo[k] = lo[k];
    m->dn[k] = hi[k] - lo[k] + 1;
    box *= m->dn[k];
  }
  if (box != (hsize_t)np) goto done; /* not one box */
  m->d0 = lo[0];
  m->n = m->dn[0];
  /* A whole-source ("all") selection is stored without an extent: it is
   * completed from the source's dims once that is open. */
  m->rank = H5Sget_simple_extent_ndims(ss);
  if (m->rank < 1 || H5Sget_select_type(ss) == H5S_SEL_ALL) {
    m->all = 1;
    res = 0;
    goto done;
  }
  if (H5Sis_regular_hyperslab(ss) <= 0 || H5Sget_regular_hyperslab(ss, m->start, m->stride, m->count, m->block) < 0)
    goto done;
  if (rf__vmap_pulse_axis(m)) goto done;
  res = 0;
done:
  if (vs >= 0) H5Sclose(vs);
  if (ss >= 0) H5Sclose(ss);
  return res;
}

int rf__vds_create(rf__vds **out, hid_t file, hid_t iq, const char *path) {
  rf__vds *v = NULL;
  hid_t dcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID, dapl = H5I_INVALID_HID;
  char *dir = NULL, *fname = NULL, *dname = NULL;
  int st = 0;
  *out = NULL;
  if (!rf__vds_fast_enabled) return 0;
  if ((dcpl = H5Dget_create_plist(iq)) < 0) return 0;
  size_t n = 0;
  if (H5Pget_layout(dcpl) != H5D_VIRTUAL || H5Pget_virtual_count(dcpl, &n) < 0 || n == 0) goto cleanup;
  if (!(v = rf__calloc(1, sizeof *v)) || !(v->m = rf__calloc(n, sizeof *v->m)) ||
      !(v->s = rf__calloc(n, sizeof *v->s)) || !(dir = rf__path_dirname(path))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  v->path = path;
  if ((fapl = rf__h5_fapl()) < 0 || (dapl = rf__iq_dapl(521, RF__VDS_CHUNK_CACHE)) < 0) goto fallback;
  for (size_t i = 0; i < n; i++) {
    rf__vmap *m = &v->m[v->nm];
    int r = rf__vmap_read(dcpl, i, m);
    if (r) goto fallback;
    ssize_t nf = H5Pget_virtual_filename(dcpl, i, NULL, 0), nd = H5Pget_virtual_dsetname(dcpl, i, NULL, 0);
    rf__free(fname);
    rf__free(dname);
    fname = nf >= 0 ? rf__malloc((size_t)nf + 1) : NULL;
    dname = nd >= 0 ? rf__malloc((size_t)nd + 1) : NULL;
    if (!fname || !dname || H5Pget_virtual_filename(dcpl, i, fname, (size_t)nf + 1) < 0 ||
        H5Pget_virtual_dsetname(dcpl, i, dname, (size_t)nd + 1) < 0 || strchr(fname, '%') || strchr(dname, '%'))
      goto fallback; /* printf-style names: HDF5's own read */
    /* The source, once per (file, dataset). */
    size_t s = 0;
    while (s < v->ns && (strcmp(v->s[s].fname, fname) || strcmp(v->s[s].dname, dname))) s++;
    if (s == v->ns) {
      rf__vsrc *src = &v->s[v->ns];
      src->file = src->dset = src->ntype = H5I_INVALID_HID;
      v->ns++;
      src->fname = rf__strdup(fname);
      src->dname = rf__strdup(dname);
      int self = !strcmp(fname, ".");
      char *full = self ? NULL : rf__path_join(dir, fname);
      if (full && rf__same_file(full, path)) self = 1; /* the capture by its name: its own handle */
      int bad = !src->fname || !src->dname || (!self && (!full || (src->file = H5Fopen(full, H5F_ACC_RDONLY, fapl)) < 0));
      rf__free(full);
      if (bad) goto fallback;
      hid_t t = H5I_INVALID_HID;
      if ((src->dset = H5Dopen2(src->file >= 0 ? src->file : file, dname, dapl)) < 0 ||
          (t = H5Dget_type(src->dset)) < 0 || (H5Tget_class(t) != H5T_INTEGER && H5Tget_class(t) != H5T_FLOAT) ||
          (src->ntype = H5Tget_native_type(t, H5T_DIR_ASCEND)) < 0) {
        if (t >= 0) H5Tclose(t);
        goto fallback;
      }
      H5Tclose(t);
      hid_t sp = H5Dget_space(src->dset);
      src->rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
      if (sp < 0 || src->rank < 1 || H5Sget_simple_extent_dims(sp, src->dims, NULL) < 0) {
        if (sp >= 0) H5Sclose(sp);
        goto fallback;
      }
      H5Sclose(sp);
    }
    if (m->all) {
      m->rank = v->s[s].rank;
      for (int k = 0; k < m->rank; k++) {
        m->start[k] = 0;
        m->stride[k] = m->count[k] = 1;
        m->block[k] = v->s[s].dims[k];
      }
      if (rf__vmap_pulse_axis(m)) goto fallback;
    }
    if (v->s[s].rank != m->rank) goto fallback;
    m->src = (int)s;
    v->nm++;
  }
  *out = v;
  v = NULL;
  goto cleanup;
fallback:
  rf_errmsg_clear();
  H5Eclear2(H5E_DEFAULT);
  /* HDF5 reopens a source file named by name; for the capture itself that
   * open fails (it is open with another close degree) and the samples read
   * as zeros, silently. Such a capture is only read directly. */
  for (size_t i = 0; i < n && !st; i++) {
    ssize_t nf = H5Pget_virtual_filename(dcpl, i, NULL, 0);
    char *nm = nf > 0 ? rf__malloc((size_t)nf + 1) : NULL;
    if (nm && H5Pget_virtual_filename(dcpl, i, nm, (size_t)nf + 1) >= 0 && strcmp(nm, ".")) {
      char *full = rf__path_join(dir, nm);
      if (full && rf__same_file(full, path))
        st = rf__err(RF_EFORMAT, "%s: /iq: virtual mapping %zu names this file (\"%s\") instead of \".\" in a form "
                     "radarflow cannot read directly, and HDF5 1.10 would read it as zeros", path, i, nm);
      rf__free(full);
    }
    rf__free(nm);
  }
cleanup:
  rf__free(fname);
  rf__free(dname);
  rf__free(dir);
  if (dapl >= 0) H5Pclose(dapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (dcpl >= 0) H5Pclose(dcpl);
  rf__vds_destroy(v);
  return st;
}

/* The source hyperslab of mapping m for /iq pulses [x, y). */
static void rf__sub(const rf__vmap *m, hsize_t x, hsize_t y, hsize_t *start, hsize_t *count, hsize_t *block) {
  for (int k = 0; k < m->rank; k++) {
    start[k] = m->start[k];
    count[k] = m->count[k];
    block[k] = m->block[k];
  }
  int k = m->kp;
  hsize_t i0 = x - m->d0, ni = y - x;
  if (m->per_count) {
    start[k] += i0 * m->stride[k];
    count[k] = ni;
  } else if (m->count[k] == 1) {
    start[k] += i0;
    block[k] = ni;
  } else {
    start[k] += i0;
    count[k] = ni;
  }
}

static int rf__grow(void **p, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  void *np = rf__realloc(*p, need);
  if (!np) return -1;
  *p = np;
  *cap = need;
  return 0;
}

typedef struct rf__scat {
  const void *buf;
  size_t bytes;
} rf__scat;

static herr_t rf__scatter_cb(const void **src, size_t *used, void *op) {
  rf__scat *s = op;
  *src = s->buf;
  *used = s->bytes;
  return 0;
}

int rf__vds_read(rf__vds *v, size_t first, size_t count, size_t channels, size_t samples, hid_t mtype,
                 void *raw) {
  const char *path = v->path;
  hsize_t a = first, b = first + count;
  size_t msize = H5Tget_size(mtype);
  hsize_t odims[4] = {count, channels, samples, 2};
  /* Bounding box of each source for this block. */
  for (size_t s = 0; s < v->ns; s++) v->s[s].used = 0;
  for (size_t i = 0; i < v->nm; i++) {
    const rf__vmap *m = &v->m[i];
    hsize_t x = m->d0 > a ? m->d0 : a, y = m->d0 + m->n < b ? m->d0 + m->n : b;
    if (x >= y) continue;
    hsize_t start[H5S_MAX_RANK], cnt[H5S_MAX_RANK], blk[H5S_MAX_RANK];
    rf__sub(m, x, y, start, cnt, blk);
    rf__vsrc *s = &v->s[m->src];
    for (int k = 0; k < m->rank; k++) {
      hsize_t lo = start[k], hi = start[k] + (cnt[k] - 1) * m->stride[k] + blk[k] - 1;
      if (!s->used || lo < s->lo[k]) s->lo[k] = lo;
      if (!s->used || hi > s->hi[k]) s->hi[k] = hi;
      if (hi >= s->dims[k])
        return rf__err(RF_EFORMAT, "%s: /iq: a virtual mapping reaches past its source dataset", path);
    }
    s->used = 1;
  }
  for (size_t s = 0; s < v->ns; s++) {
    rf__vsrc *src = &v->s[s];
    if (!src->used) continue;
    hsize_t bdims[H5S_MAX_RANK], nbox = 1;
    for (int k = 0; k < src->rank; k++) {
      bdims[k] = src->hi[k] - src->lo[k] + 1;
      nbox *= bdims[k];
    }
    size_t esize = H5Tget_size(src->ntype);
    if (rf__grow(&v->box, &v->box_cap, (size_t)nbox * esize))
      return rf__err(RF_ENOMEM, "%s: /iq: out of memory reading pulses %zu..%zu", path, first, first + count - 1);
    hid_t fs = H5Dget_space(src->dset), ms = H5Screate_simple(src->rank, bdims, NULL);
    int bad = fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, src->lo, NULL, bdims, NULL) < 0 ||
              H5Dread(src->dset, src->ntype, ms, fs, H5P_DEFAULT, v->box) < 0;
    if (fs >= 0) H5Sclose(fs);
    if (bad) {
      if (ms >= 0) H5Sclose(ms);
      return rf__err(RF_EFORMAT, "%s: /iq: cannot read pulses %zu..%zu: %s", path, first, first + count - 1,
                     rf__h5_errdesc());
    }
    /* Every mapping of this source: gather, convert, scatter. */
    int st = 0;
    for (size_t i = 0; i < v->nm && !st; i++) {
      const rf__vmap *m = &v->m[i];
      if (m->src != (int)s) continue;
      hsize_t x = m->d0 > a ? m->d0 : a, y = m->d0 + m->n < b ? m->d0 + m->n : b;
      if (x >= y) continue;
      hsize_t start[H5S_MAX_RANK], cnt[H5S_MAX_RANK], blk[H5S_MAX_RANK];
      rf__sub(m, x, y, start, cnt, blk);
      for (int k = 0; k < m->rank; k++) start[k] -= src->lo[k];
      hsize_t dstart[4] = {x - a, m->dlo[1], m->dlo[2], m->dlo[3]}, dcnt[4] = {y - x, m->dn[1], m->dn[2], m->dn[3]};
      size_t ne = (size_t)(dcnt[0] * dcnt[1] * dcnt[2] * dcnt[3]);
      size_t tb = ne * (esize > msize ? esize : msize);
      hid_t os = H5Screate_simple(4, odims, NULL);
      if (rf__grow(&v->tmp, &v->tmp_cap, tb)) {
        if (os >= 0) H5Sclose(os);
        st = rf__err(RF_ENOMEM, "%s: /iq: out of memory", path);
        break;
      }
      rf__scat sc = {v->tmp, ne * msize};
      if (os < 0 || H5Sselect_hyperslab(ms, H5S_SELECT_SET, start, m->stride, cnt, blk) < 0 ||
          H5Sget_select_npoints(ms) != (hssize_t)ne ||
          H5Dgather(ms, v->box, src->ntype, ne * esize, v->tmp, NULL, NULL) < 0 ||
          H5Tconvert(src->ntype, mtype, ne, v->tmp, NULL, H5P_DEFAULT) < 0 ||
          H5Sselect_hyperslab(os, H5S_SELECT_SET, dstart, NULL, dcnt, NULL) < 0 ||
          H5Dscatter(rf__scatter_cb, &sc, mtype, os, raw) < 0)
        st = rf__err(RF_EFORMAT, "%s: /iq: cannot read pulses %zu..%zu: %s", path, first, first + count - 1,
                     rf__h5_errdesc());
      if (os >= 0) H5Sclose(os);
    }
    H5Sclose(ms);
    if (st) return st;
  }
  return 0;
}
