/* radarflow io/: reading a chunked /iq by whole chunks, without HDF5's
 * copies.
 *
 * Through H5Dread, HDF5 1.10 reads each chunk of a filtered dataset into
 * its chunk cache, runs the filter (radarflow's writer adds Fletcher-32,
 * which HDF5 checks at about 2 GB/s, 16 bits at a time) and copies the
 * selected part into the caller's buffer: two passes over the samples
 * besides the read, on one thread. Here, for a /iq chunked by whole pulses
 * (chunk {k, channels, samples, 2}) whose stored type is the native one,
 * with no filter or Fletcher-32 alone, in a file with no user block opened
 * with HDF5's default (sec2) driver: HDF5 looks each chunk up
 * (H5Dget_chunk_info_by_coord: where it is, how large, which filters it
 * skipped), then the chunks are read with preadv on HDF5's own file
 * descriptor straight into the caller's buffer (a chunk the request covers
 * only in part goes through a scratch buffer) with their checksum, by all
 * OpenMP threads, each checking its chunk's Fletcher-32 as HDF5's filter
 * does (the same value, 16 words at a time) and then the caller's check
 * (finite samples) while the chunk is in cache.
 *
 * A chunk that is not stored as expected (never written, another size, a
 * filter skipped) is read by H5Dread, as is every /iq of another form
 * (contiguous, external, virtual, compressed, another byte order).
 * tests/test_capture.c compares both paths. */
#include "capture_chunks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "h5util.h"

/* OpenMP when built with it (the library is; the fuzz targets are not). */
#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_max_threads(void) { return 1; }
static int omp_get_thread_num(void) { return 0; }
#endif

int rf__chunks_direct_enabled = 1;

#define RF__CHUNKS_BATCH 64                     /* chunks looked up, then read in parallel */
#define RF__CHUNKS_MAX_BYTES ((size_t)64 << 20) /* larger chunks: HDF5 reads them */

typedef struct rf__cjob {
  size_t k;       /* chunk index */
  haddr_t addr;   /* HADDR_UNDEF: read through HDF5 */
} rf__cjob;

struct rf__chunks {
  const char *path;
  hid_t iq, mtype;
  int fd, fletcher, threads;
  size_t pulses, per, pulse_bytes, chunk_bytes, stored_bytes;
  unsigned char *scratch;  /* [threads][chunk_bytes], when a chunk holds several pulses */
  rf__cjob job[RF__CHUNKS_BATCH];
  /* the first failure of a parallel batch */
  size_t fail_k;
  int fail_status;
  char fail_msg[1024];
};

/* ---- Fletcher-32 ------------------------------------------------------------------ */
/* HDF5 sums 16-bit big-endian words: sum1 += w, sum2 += sum1, folding both
 * every 360 words by end-around carry, (x & 0xffff) + (x >> 16), which keeps
 * each congruent modulo 65535 and keeps a positive sum positive. So sum1 is
 * S1 = sum w_i and sum2 is S2 = sum (n - i) w_i modulo 65535, shown as 65535
 * (not 0) for a positive multiple. Here 16 lanes of 32-bit sums take 256
 * groups of 16 words at a time (no overflow: 256 * 257 / 2 * 65535 < 2^32):
 * a_l += w, b_l += a_l, and for the block of n = 16 m words,
 * sum (n - i) w_i = 16 sum b_l - sum l a_l. */
#define RF__FL_LANES 16
#define RF__FL_GROUPS 256
typedef uint32_t rf__v8u __attribute__((vector_size(32)));
typedef uint16_t rf__v8h __attribute__((vector_size(16)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void rf__fl_groups(const unsigned char *p, size_t groups, uint64_t *s1, uint64_t *s2, int *any) {
  uint64_t t1 = *s1, t2 = *s2, nz = 0;
  while (groups) {
    size_t m = groups < RF__FL_GROUPS ? groups : RF__FL_GROUPS;
    rf__v8u a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    for (size_t g = 0; g < m; g++, p += 2 * RF__FL_LANES) {
      rf__v8h h0, h1;
      memcpy(&h0, p, sizeof h0);
      memcpy(&h1, p + sizeof h0, sizeof h1);
      h0 = (h0 << 8) | (h0 >> 8); /* big-endian words */
      h1 = (h1 << 8) | (h1 >> 8);
      a0 += __builtin_convertvector(h0, rf__v8u);
      a1 += __builtin_convertvector(h1, rf__v8u);
      b0 += a0;
      b1 += a1;
    }
    uint64_t sa = 0, sb = 0, sla = 0;
    for (int l = 0; l < 8; l++) {
      sa += (uint64_t)a0[l] + a1[l];
      sb += (uint64_t)b0[l] + b1[l];
      sla += (uint64_t)l * a0[l] + (uint64_t)(l + 8) * a1[l];
    }
    uint64_t n = (uint64_t)m * RF__FL_LANES;
    t2 = (t2 + (n % 65535) * t1 + (RF__FL_LANES * sb - sla) % 65535) % 65535;
    t1 = (t1 + sa) % 65535;
    nz |= sa;
    groups -= m;
  }
  *s1 = t1;
  *s2 = t2;
  *any |= nz != 0;
}

uint32_t rf__fletcher32(const void *data, size_t bytes) {
  const unsigned char *p = data;
  const size_t words = bytes / 2, groups = words / RF__FL_LANES;
  uint64_t s1 = 0, s2 = 0;
  int any = 0;
  rf__fl_groups(p, groups, &s1, &s2, &any);
  for (size_t i = groups * RF__FL_LANES; i <= words; i++) {
    uint32_t w;
    if (i < words) w = (uint32_t)p[2 * i] << 8 | p[2 * i + 1];
    else if (bytes % 2) w = (uint32_t)p[bytes - 1] << 8; /* an odd last byte: the high half */
    else break;
    any |= w != 0;
    s1 = (s1 + w) % 65535;
    s2 = (s2 + s1) % 65535;
  }
  uint32_t r1 = s1 ? (uint32_t)s1 : any ? 65535u : 0u, r2 = s2 ? (uint32_t)s2 : any ? 65535u : 0u;
  return r2 << 16 | r1;
}

/* The filter's check: the stored value (little-endian after the data) is
 * the checksum, or the one HDF5 before 1.6.3 wrote on little-endian
 * machines (bytes swapped within each half), which HDF5 still accepts. */
static int rf__fl_ok(const unsigned char *data, size_t bytes, const unsigned char stored[4]) {
  uint32_t f = rf__fletcher32(data, bytes);
  uint32_t s = (uint32_t)stored[0] | (uint32_t)stored[1] << 8 | (uint32_t)stored[2] << 16 | (uint32_t)stored[3] << 24;
  uint32_t rev = (f & 0x00ff00ffu) << 8 | (f >> 8 & 0x00ff00ffu);
  return s == f || s == rev;
}

/* ---- the plan ------------------------------------------------------------------------ */
void rf__chunks_destroy(rf__chunks *x) {
  if (!x) return;
  rf__free_aligned(x->scratch);
  rf__free(x);
}

/* Whether /iq has the form read here: *per pulses a chunk, *fletcher. */
static int rf__chunks_form(hid_t file, hid_t iq, hid_t mtype, size_t pulse_bytes, size_t *per, int *fletcher,
                           int *fd) {
  hid_t dcpl = H5Dget_create_plist(iq), t = H5Dget_type(iq), sp = H5Dget_space(iq);
  hid_t fapl = H5Fget_access_plist(file), fcpl = H5Fget_create_plist(file);
  hsize_t dims[4], cdims[4], ub = 1;
  void *handle = NULL;
  int ok = dcpl >= 0 && t >= 0 && sp >= 0 && fapl >= 0 && fcpl >= 0 && H5Tequal(t, mtype) > 0 &&
           H5Pget_layout(dcpl) == H5D_CHUNKED && H5Sget_simple_extent_ndims(sp) == 4 &&
           H5Sget_simple_extent_dims(sp, dims, NULL) == 4 && H5Pget_chunk(dcpl, 4, cdims) == 4 &&
           cdims[0] >= 1 && cdims[1] == dims[1] && cdims[2] == dims[2] && cdims[3] == dims[3] &&
           H5Pget_userblock(fcpl, &ub) >= 0 && ub == 0 && H5Pget_driver(fapl) == H5FD_SEC2 &&
           H5Fget_vfd_handle(file, fapl, &handle) >= 0 && handle;
  int nf = ok ? H5Pget_nfilters(dcpl) : -1;
  *fletcher = 0;
  if (nf == 1) {
    unsigned flags, cfg;
    size_t nel = 0;
    char name[64];
    *fletcher = H5Pget_filter2(dcpl, 0, &flags, &nel, NULL, sizeof name, name, &cfg) == H5Z_FILTER_FLETCHER32;
  }
  ok = ok && (nf == 0 || *fletcher) && cdims[0] * (hsize_t)pulse_bytes <= RF__CHUNKS_MAX_BYTES;
  if (ok) {
    *per = (size_t)cdims[0];
    *fd = *(int *)handle;
  }
  if (fcpl >= 0) H5Pclose(fcpl);
  if (fapl >= 0) H5Pclose(fapl);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (dcpl >= 0) H5Pclose(dcpl);
  return ok;
}

int rf__chunks_create(rf__chunks **out, hid_t file, hid_t iq, hid_t mtype, size_t pulses, size_t pulse_bytes,
                      const char *path) {
  *out = NULL;
  size_t per;
  int fletcher, fd;
  if (!rf__chunks_direct_enabled || !pulse_bytes) return 0;
  rf__h5_quiet();
  int ok = rf__chunks_form(file, iq, mtype, pulse_bytes, &per, &fletcher, &fd);
  H5Eclear2(H5E_DEFAULT);
  if (!ok) return 0;
  rf__chunks *x = rf__calloc(1, sizeof *x);
  if (!x) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  x->path = path;
  x->iq = iq;
  x->mtype = mtype;
  x->fd = fd;
  x->fletcher = fletcher;
  x->threads = omp_get_max_threads();
  x->pulses = pulses;
  x->per = per;
  x->pulse_bytes = pulse_bytes;
  x->chunk_bytes = per * pulse_bytes;
  x->stored_bytes = x->chunk_bytes + (fletcher ? 4 : 0);
  if (per > 1 && !(x->scratch = rf__malloc_aligned((size_t)x->threads * x->chunk_bytes))) {
    rf__chunks_destroy(x);
    return rf__err(RF_ENOMEM, "%s: out of memory", path);
  }
  *out = x;
  return 0;
}

/* ---- reading ------------------------------------------------------------------------ */
/* preadv of the whole iovec, resuming after short reads. */
static int rf__preadv_all(int fd, struct iovec *iov, int n, off_t off) {
  while (n > 0) {
    ssize_t r = preadv(fd, iov, n, off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? errno : EIO; /* end of file: a truncated capture */
    off += r;
    while (n > 0 && (size_t)r >= iov->iov_len) {
      r -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + r;
      iov->iov_len -= (size_t)r;
    }
  }
  return 0;
}

/* Pulses [*a, *b) of chunk k that the request [first, first + count) covers. */
static void rf__chunk_part(const rf__chunks *x, size_t k, size_t first, size_t count, size_t *a, size_t *b) {
  size_t c0 = k * x->per, c1 = c0 + x->per;
  if (c1 > x->pulses) c1 = x->pulses;
  *a = c0 > first ? c0 : first;
  *b = c1 < first + count ? c1 : first + count;
}

/* Reads chunk k (job j) and checks it; on failure the status, with the
 * message kept in the plan if it is the first chunk to fail. */
static int rf__chunk_direct(rf__chunks *x, const rf__cjob *j, size_t first, size_t count, unsigned char *raw,
                            rf__chunks_check check, void *ctx) {
  size_t a, b;
  rf__chunk_part(x, j->k, first, count, &a, &b);
  const size_t c0 = j->k * x->per;
  const int whole = a == c0 && b == c0 + x->per;
  unsigned char *dst = whole ? raw + (a - first) * x->pulse_bytes
                             : x->scratch + (size_t)omp_get_thread_num() * x->chunk_bytes;
  unsigned char sum[4];
  struct iovec iov[2] = {{dst, x->chunk_bytes}, {sum, 4}};
  int st = 0, e = rf__preadv_all(x->fd, iov, x->fletcher ? 2 : 1, (off_t)j->addr);
  if (e)
    st = rf__err(RF_EFORMAT, "%s: /iq: cannot read pulses %zu..%zu: %s", x->path, a, b - 1, strerror(e));
  else if (x->fletcher && !rf__fl_ok(dst, x->chunk_bytes, sum))
    st = rf__err(RF_EFORMAT, "%s: /iq: pulses %zu..%zu: data error detected by the Fletcher-32 checksum "
                             "(corrupted file)", x->path, c0, c0 + x->per - 1);
  if (!st && !whole) memcpy(raw + (a - first) * x->pulse_bytes, dst + (a - c0) * x->pulse_bytes,
                            (b - a) * x->pulse_bytes);
  if (!st && check) st = check(ctx, a, b - a, raw + (a - first) * x->pulse_bytes);
  if (st) {
#pragma omp critical(rf__chunks_fail)
    if (!x->fail_status || j->k < x->fail_k) {
      x->fail_status = st;
      x->fail_k = j->k;
      snprintf(x->fail_msg, sizeof x->fail_msg, "%s", rf_errmsg());
    }
  }
  return st;
}

/* Chunk k's part of the request through H5Dread (HDF5 applies the filters). */
static int rf__chunk_hdf5(rf__chunks *x, size_t k, size_t first, size_t count, unsigned char *raw,
                          rf__chunks_check check, void *ctx) {
  size_t a, b;
  rf__chunk_part(x, k, first, count, &a, &b);
  hid_t fs = H5Dget_space(x->iq), ms = H5I_INVALID_HID;
  hsize_t dims[4];
  int st = 0;
  if (fs >= 0 && H5Sget_simple_extent_dims(fs, dims, NULL) == 4) {
    hsize_t start[4] = {a, 0, 0, 0}, cnt[4] = {b - a, dims[1], dims[2], dims[3]};
    ms = H5Screate_simple(4, cnt, NULL);
    if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
        H5Dread(x->iq, x->mtype, ms, fs, H5P_DEFAULT, raw + (a - first) * x->pulse_bytes) < 0)
      st = -1;
  } else {
    st = -1;
  }
  if (st) st = rf__err(RF_EFORMAT, "%s: /iq: cannot read pulses %zu..%zu: %s", x->path, a, b - 1, rf__h5_errdesc());
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  if (!st && check) st = check(ctx, a, b - a, raw + (a - first) * x->pulse_bytes);
  return st;
}

int rf__chunks_read(rf__chunks *x, size_t first, size_t count, void *raw, rf__chunks_check check, void *ctx) {
  if (!count) return 0;
  rf__h5_quiet();
  const size_t k0 = first / x->per, k1 = (first + count - 1) / x->per;
  for (size_t kb = k0; kb <= k1; kb += RF__CHUNKS_BATCH) {
    size_t nj = k1 - kb + 1 < RF__CHUNKS_BATCH ? k1 - kb + 1 : RF__CHUNKS_BATCH;
    /* Where each chunk is (HDF5 calls: this thread only). */
    for (size_t i = 0; i < nj; i++) {
      rf__cjob *j = &x->job[i];
      hsize_t off[4] = {(kb + i) * x->per, 0, 0, 0}, size = 0;
      unsigned mask = 1;
      j->k = kb + i;
      if (H5Dget_chunk_info_by_coord(x->iq, off, &mask, &j->addr, &size) < 0 || mask != 0 ||
          size != x->stored_bytes)
        j->addr = HADDR_UNDEF;
    }
    H5Eclear2(H5E_DEFAULT);
    x->fail_status = 0;
#pragma omp parallel for schedule(dynamic) num_threads(x->threads)
    for (long i = 0; i < (long)nj; i++)
      if (x->job[i].addr != HADDR_UNDEF) rf__chunk_direct(x, &x->job[i], first, count, raw, check, ctx);
    if (x->fail_status) return rf__err(x->fail_status, "%s", x->fail_msg);
    for (size_t i = 0; i < nj; i++) {
      int st = x->job[i].addr == HADDR_UNDEF ? rf__chunk_hdf5(x, x->job[i].k, first, count, raw, check, ctx) : 0;
      if (st) return st;
    }
  }
  return 0;
}
