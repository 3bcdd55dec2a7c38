/* radarflow io/: ASTERIX CAT048 / CAT062 encoder and test decoder
 * (rf_asterix.h, docs/asterix.md). Big-endian fields; FSPEC bits in FRN
 * order, 7 per octet with FX in bit 1. */
#include "rf_asterix.h"

#include <math.h>
#include <string.h>

#define RF__DEG (RF_PI / 180.0)
/* I048/170 CDM and the climb sense: |v_up| below this is "maintaining". */
#define RF__CDM_MPS 1.0

static uint8_t *rf__put8(uint8_t *p, uint32_t v) {
  *p++ = (uint8_t)v;
  return p;
}
static uint8_t *rf__put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
  return p + 2;
}
static uint8_t *rf__put24(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
  return p + 3;
}
static uint8_t *rf__put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
  return p + 4;
}

/* Rounds v / lsb to the nearest integer; 0 when it does not fit [lo, hi]. */
static int rf__quant(double v, double lsb, double lo, double hi, long long *out) {
  double q = nearbyint(v / lsb);
  if (!(q >= lo && q <= hi)) return 0;
  *out = (long long)q;
  return 1;
}

/* Seconds since midnight UTC in 1/128 s, modulo 2^24 (one day is 11059200). */
static uint32_t rf__tod(double time_s) {
  double tod = fmod(time_s, 86400.0);
  if (tod < 0) tod += 86400.0;
  long long q = (long long)nearbyint(tod * 128.0);
  return (uint32_t)(q % (86400LL * 128));
}

/* Writes FSPEC for the FRNs set in `frn` (bit k = FRN k+1). */
static uint8_t *rf__fspec(uint8_t *p, uint32_t frn) {
  int last = 0;
  for (int k = 0; k < 32; k++)
    if (frn & (1u << k)) last = k;
  int octets = last / 7 + 1;
  for (int o = 0; o < octets; o++) {
    uint8_t b = 0;
    for (int i = 0; i < 7; i++)
      if (frn & (1u << (o * 7 + i))) b |= (uint8_t)(0x80 >> i);
    if (o + 1 < octets) b |= 1;
    *p++ = b;
  }
  return p;
}
#define RF__FRN(n) (1u << ((n) - 1))

/* I048/040 of a range and azimuth; 0 when beyond 256 NM. */
static int rf__polar(double range_m, double az_deg, uint32_t *rho, uint32_t *theta) {
  long long r, t = 0;
  if (!rf__quant(range_m, RF_ASTERIX_LSB_RHO_M, 0, 65535, &r)) return 0;
  double a = fmod(az_deg, 360.0);
  if (a < 0) a += 360.0;
  rf__quant(a, RF_ASTERIX_LSB_THETA_DEG, 0, 65536, &t);
  *rho = (uint32_t)r;
  *theta = (uint32_t)(t & 0xffff);
  return 1;
}

size_t rf_asterix_cat048_plot(uint8_t *out, const rf_asterix_source *src, const rf_plot *p) {
  uint32_t rho, theta;
  if (!rf__polar(p->range_m, p->azimuth_deg, &rho, &theta)) return 0;
  long long dop;
  int has_dop = rf__quant(p->radial_velocity_mps, RF_ASTERIX_LSB_DOPPLER_MPS, -512, 511, &dop);
  uint32_t frn = RF__FRN(1) | RF__FRN(2) | RF__FRN(3) | RF__FRN(4) | (has_dop ? RF__FRN(20) : 0);
  uint8_t *q = rf__fspec(out, frn);
  q = rf__put8(q, (uint32_t)src->sac), q = rf__put8(q, (uint32_t)src->sic); /* 010 */
  q = rf__put24(q, rf__tod(p->time_s));                                      /* 140 */
  q = rf__put8(q, 1u << 5);                                   /* 020: TYP 001 single PSR */
  q = rf__put16(q, rho), q = rf__put16(q, theta);                            /* 040 */
  if (has_dop) { /* 120: CAL subfield only; D = 0 (valid), 10-bit two's complement */
    q = rf__put8(q, 0x80);
    q = rf__put16(q, (uint32_t)dop & 0x3ff);
  }
  return (size_t)(q - out);
}

size_t rf_asterix_cat048_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r) {
  uint32_t rho, theta;
  if (!rf__polar(r->range_m, r->azimuth_deg, &rho, &theta)) return 0;
  long long dop, gsp, hdg = 0;
  int has_dop = rf__quant(r->radial_velocity_mps, RF_ASTERIX_LSB_DOPPLER_MPS, -512, 511, &dop);
  double gs = hypot(r->v_east_mps, r->v_north_mps), h = atan2(r->v_east_mps, r->v_north_mps) / RF__DEG;
  if (h < 0) h += 360.0;
  int has_vel = rf__quant(gs, RF_ASTERIX_LSB_GSP_MPS, 0, 65535, &gsp);
  rf__quant(h, RF_ASTERIX_LSB_HDG_DEG, 0, 65536, &hdg);
  uint32_t frn = RF__FRN(1) | RF__FRN(2) | RF__FRN(3) | RF__FRN(4) | RF__FRN(11) |
                 (has_vel ? RF__FRN(13) : 0) | RF__FRN(14) | (has_dop ? RF__FRN(20) : 0);
  uint8_t *q = rf__fspec(out, frn);
  q = rf__put8(q, (uint32_t)src->sac), q = rf__put8(q, (uint32_t)src->sic);
  q = rf__put24(q, rf__tod(r->time_s));
  /* 020: TYP 001 when a plot updated the track, 000 (no detection) otherwise. */
  int detected = r->status == RF_TRACK_TENTATIVE || r->status == RF_TRACK_CONFIRMED;
  q = rf__put8(q, detected ? 1u << 5 : 0);
  q = rf__put16(q, rho), q = rf__put16(q, theta);
  q = rf__put16(q, (uint32_t)r->track_id & 0xfff);                      /* 161: 12 bits */
  if (has_vel) q = rf__put16(q, (uint32_t)gsp), q = rf__put16(q, (uint32_t)hdg & 0xffff); /* 200 */
  /* 170: CNF (1 tentative), RAD 01 (PSR track), CDM; extension: TRE. */
  int cdm = r->v_up_mps > RF__CDM_MPS ? 1 : r->v_up_mps < -RF__CDM_MPS ? 2 : 0;
  q = rf__put8(q, (r->status == RF_TRACK_TENTATIVE ? 0x80u : 0) | (1u << 5) | ((uint32_t)cdm << 1) | 1u);
  q = rf__put8(q, r->status == RF_TRACK_DELETED ? 0x80u : 0);
  if (has_dop) {
    q = rf__put8(q, 0x80);
    q = rf__put16(q, (uint32_t)dop & 0x3ff);
  }
  return (size_t)(q - out);
}

size_t rf_asterix_cat062_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r,
                               int first) {
  long long lat = 0, lon = 0, x, y, vx, vy, alt, ax, ay;
  rf__quant(r->latitude_deg, RF_ASTERIX_LSB_LATLON_DEG, -2147483648.0, 2147483647.0, &lat);
  double lo = fmod(r->longitude_deg + 180.0, 360.0);
  if (lo < 0) lo += 360.0;
  rf__quant(lo - 180.0, RF_ASTERIX_LSB_LATLON_DEG, -2147483648.0, 2147483647.0, &lon);
  int has_xy = rf__quant(r->east_m, RF_ASTERIX_LSB_XY_M, -8388608, 8388607, &x) &&
               rf__quant(r->north_m, RF_ASTERIX_LSB_XY_M, -8388608, 8388607, &y);
  int has_v = rf__quant(r->v_east_mps, RF_ASTERIX_LSB_V_MPS, -32768, 32767, &vx) &&
              rf__quant(r->v_north_mps, RF_ASTERIX_LSB_V_MPS, -32768, 32767, &vy);
  int has_alt = rf__quant(r->altitude_m, RF_ASTERIX_LSB_ALT_M, -32768, 32767, &alt);
  /* APC: the row has the trace of the position covariance; each of x, y
   * gets an equal share (pos_sigma / sqrt 3), capped at the field's end. */
  double s = r->pos_sigma_m / sqrt(3.0);
  if (!rf__quant(s, RF_ASTERIX_LSB_APC_M, 0, 65535, &ax)) ax = 65535;
  ay = ax;
  uint32_t frn = RF__FRN(1) | RF__FRN(3) | RF__FRN(4) | RF__FRN(5) | (has_xy ? RF__FRN(6) : 0) |
                 (has_v ? RF__FRN(7) : 0) | RF__FRN(12) | RF__FRN(13) | (has_alt ? RF__FRN(18) : 0) |
                 RF__FRN(27);
  uint8_t *q = rf__fspec(out, frn);
  q = rf__put8(q, (uint32_t)src->sac), q = rf__put8(q, (uint32_t)src->sic); /* 010 */
  q = rf__put8(q, (uint32_t)src->service_id);                               /* 015 */
  q = rf__put24(q, rf__tod(r->time_s));                                      /* 070 */
  q = rf__put32(q, (uint32_t)lat), q = rf__put32(q, (uint32_t)lon);         /* 105 */
  if (has_xy) q = rf__put24(q, (uint32_t)x & 0xffffff), q = rf__put24(q, (uint32_t)y & 0xffffff); /* 100 */
  if (has_v) q = rf__put16(q, (uint32_t)vx & 0xffff), q = rf__put16(q, (uint32_t)vy & 0xffff);     /* 185 */
  q = rf__put16(q, (uint32_t)r->track_id & 0xffff);                         /* 040 */
  /* 080: MON (monosensor), SRC 010 (3D radar), CNF; ext 1: TSE (last), TSB
   * (first); ext 2: nothing; ext 3: CST (coasting). */
  q = rf__put8(q, 0x80u | (2u << 2) | (r->status == RF_TRACK_TENTATIVE ? 0x02u : 0) | 1u);
  q = rf__put8(q, (r->status == RF_TRACK_DELETED ? 0x40u : 0) | (first ? 0x20u : 0) | 1u);
  q = rf__put8(q, 1u);
  q = rf__put8(q, r->status == RF_TRACK_COASTING ? 0x80u : 0);
  if (has_alt) q = rf__put16(q, (uint32_t)alt & 0xffff);                    /* 130 */
  q = rf__put8(q, 0x80);                                                     /* 500: APC */
  q = rf__put16(q, (uint32_t)ax), q = rf__put16(q, (uint32_t)ay);
  return (size_t)(q - out);
}

/* ---- blocks ----------------------------------------------------------------------- */
typedef struct rf__abuf {
  uint8_t *v;
  size_t n, cap;
  size_t block;     /* offset of the open block, or SIZE_MAX */
  int cat;
} rf__abuf;

static int rf__abuf_reserve(rf__abuf *b, size_t more) {
  if (b->n + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + more) cap *= 2;
  uint8_t *v = rf__realloc(b->v, cap);
  if (!v) return -1;
  b->v = v;
  b->cap = cap;
  return 0;
}

static void rf__abuf_close(rf__abuf *b) {
  if (b->block == SIZE_MAX) return;
  size_t len = b->n - b->block;
  b->v[b->block + 1] = (uint8_t)(len >> 8);
  b->v[b->block + 2] = (uint8_t)len;
  b->block = SIZE_MAX;
}

/* Appends one record to a block of category cat, opening a new block when
 * the category changes or the block would exceed RF_ASTERIX_BLOCK_MAX. */
static int rf__abuf_add(rf__abuf *b, int cat, const uint8_t *rec, size_t len) {
  if (rf__abuf_reserve(b, len + 3) < 0) return -1;
  if (b->block != SIZE_MAX && (b->cat != cat || b->n - b->block + len > RF_ASTERIX_BLOCK_MAX))
    rf__abuf_close(b);
  if (b->block == SIZE_MAX) {
    b->block = b->n;
    b->cat = cat;
    b->v[b->n++] = (uint8_t)cat;
    b->v[b->n++] = 0;
    b->v[b->n++] = 0;
  }
  memcpy(b->v + b->n, rec, len);
  b->n += len;
  return 0;
}

int rf_asterix_encode_plots(const rf_asterix_source *src, const rf_plot *plots, size_t n,
                            uint8_t **buf, size_t *len, size_t *skipped) {
  rf__abuf b = {.block = SIZE_MAX};
  uint8_t rec[RF_ASTERIX_RECORD_MAX];
  size_t sk = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = rf_asterix_cat048_plot(rec, src, &plots[i]);
    if (!l) {
      sk++;
      continue;
    }
    if (rf__abuf_add(&b, 48, rec, l) < 0) {
      rf__free(b.v);
      return rf__err(RF_ENOMEM, "asterix: out of memory");
    }
  }
  rf__abuf_close(&b);
  *buf = b.v;
  *len = b.n;
  if (skipped) *skipped = sk;
  return 0;
}

int rf_asterix_encode_tracks(const rf_asterix_source *src, const rf_track_row *rows, size_t n,
                             uint8_t **buf, size_t *len, size_t *skipped) {
  rf__abuf b = {.block = SIZE_MAX};
  uint8_t rec[RF_ASTERIX_RECORD_MAX];
  size_t sk = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = rf_asterix_cat048_track(rec, src, &rows[i]);
    if (!l) {
      sk++;
      continue;
    }
    if (rf__abuf_add(&b, 48, rec, l) < 0) goto oom;
  }
  int32_t max_id = 0;
  for (size_t i = 0; i < n; i++) {
    /* Ids are given in creation order, so a track's first row is the first
     * row with an id above all earlier ones. */
    int first = rows[i].track_id > max_id;
    if (first) max_id = rows[i].track_id;
    size_t l = rf_asterix_cat062_track(rec, src, &rows[i], first);
    if (rf__abuf_add(&b, 62, rec, l) < 0) goto oom;
  }
  rf__abuf_close(&b);
  *buf = b.v;
  *len = b.n;
  if (skipped) *skipped = sk;
  return 0;
oom:
  rf__free(b.v);
  return rf__err(RF_ENOMEM, "asterix: out of memory");
}

int rf_asterix_write_plots(const char *path, const rf_asterix_source *src, const rf_plot *plots,
                           size_t n, size_t *skipped) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int st = rf_asterix_encode_plots(src, plots, n, &buf, &len, skipped);
  if (!st) st = rf_write_file_atomic(path, buf ? (const void *)buf : (const void *)"", len);
  rf__free(buf);
  return st;
}

int rf_asterix_write_tracks(const char *path, const rf_asterix_source *src,
                            const rf_track_row *rows, size_t n, size_t *skipped) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int st = rf_asterix_encode_tracks(src, rows, n, &buf, &len, skipped);
  if (!st) st = rf_write_file_atomic(path, buf ? (const void *)buf : (const void *)"", len);
  rf__free(buf);
  return st;
}

/* ---- decoder ------------------------------------------------------------------------ */
typedef struct rf__rd {
  const uint8_t *p, *end;
  int bad;
} rf__rd;

static uint32_t rf__get(rf__rd *r, int bytes) {
  if (r->end - r->p < bytes) {
    r->bad = 1;
    return 0;
  }
  uint32_t v = 0;
  for (int i = 0; i < bytes; i++) v = (v << 8) | *r->p++;
  return v;
}

static int32_t rf__sext(uint32_t v, int bits) {
  uint32_t m = 1u << (bits - 1);
  v &= (bits == 32) ? 0xffffffffu : ((1u << bits) - 1);
  return (int32_t)((v ^ m) - m);
}

/* Reads an FX-extended item: returns the octets (up to 8) packed. */
static int rf__fx_octets(rf__rd *r, uint8_t *oct, int max) {
  int n = 0;
  for (;;) {
    uint32_t b = rf__get(r, 1);
    if (r->bad || n == max) return -1;
    oct[n++] = (uint8_t)b;
    if (!(b & 1)) return n;
  }
}

static int rf__decode_record(rf__rd *r, int cat, rf_asterix_record *o) {
  memset(o, 0, sizeof *o);
  o->cat = cat;
  uint8_t fs[8];
  int nfs = rf__fx_octets(r, fs, 8);
  if (nfs < 0) return -1;
  for (int k = 0; k < nfs; k++)
    for (int i = 0; i < 7; i++)
      if (fs[k] & (0x80 >> i)) o->items |= 1u << (k * 7 + i);
  for (int frn = 1; frn <= nfs * 7; frn++) {
    if (!(o->items & RF__FRN(frn))) continue;
    uint8_t oct[8];
    if (cat == 48) {
      switch (frn) {
      case 1: o->sac = (int)rf__get(r, 1), o->sic = (int)rf__get(r, 1); break;
      case 2: o->tod_s = rf__get(r, 3) / 128.0; break;
      case 3:
        if (rf__fx_octets(r, oct, 8) < 0) return -1;
        o->typ = oct[0] >> 5;
        break;
      case 4:
        o->range_m = rf__get(r, 2) * RF_ASTERIX_LSB_RHO_M;
        o->azimuth_deg = rf__get(r, 2) * RF_ASTERIX_LSB_THETA_DEG;
        break;
      case 11: o->track_number = (int)(rf__get(r, 2) & 0xfff); break;
      case 13:
        o->ground_speed_mps = rf__get(r, 2) * RF_ASTERIX_LSB_GSP_MPS;
        o->heading_deg = rf__get(r, 2) * RF_ASTERIX_LSB_HDG_DEG;
        break;
      case 14: {
        int n = rf__fx_octets(r, oct, 8);
        if (n < 0) return -1;
        o->cnf = oct[0] >> 7, o->rad = (oct[0] >> 5) & 3, o->cdm = (oct[0] >> 1) & 3;
        o->tre = n > 1 ? oct[1] >> 7 : 0;
        break;
      }
      case 20: {
        uint32_t prim = rf__get(r, 1);
        if (prim & 0x7f) return -1; /* only the CAL subfield is written */
        if (prim & 0x80) {
          uint32_t v = rf__get(r, 2);
          o->doppler_valid = !(v & 0x8000);
          o->doppler_mps = rf__sext(v, 10) * RF_ASTERIX_LSB_DOPPLER_MPS;
        }
        break;
      }
      default: return -1;
      }
    } else {
      switch (frn) {
      case 1: o->sac = (int)rf__get(r, 1), o->sic = (int)rf__get(r, 1); break;
      case 3: o->service_id = (int)rf__get(r, 1); break;
      case 4: o->tod_s = rf__get(r, 3) / 128.0; break;
      case 5:
        o->lat_deg = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_LATLON_DEG;
        o->lon_deg = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_LATLON_DEG;
        break;
      case 6:
        o->x_m = rf__sext(rf__get(r, 3), 24) * RF_ASTERIX_LSB_XY_M;
        o->y_m = rf__sext(rf__get(r, 3), 24) * RF_ASTERIX_LSB_XY_M;
        break;
      case 7:
        o->vx_mps = rf__sext(rf__get(r, 2), 16) * RF_ASTERIX_LSB_V_MPS;
        o->vy_mps = rf__sext(rf__get(r, 2), 16) * RF_ASTERIX_LSB_V_MPS;
        break;
      case 12: o->track_number = (int)rf__get(r, 2); break;
      case 13: {
        int n = rf__fx_octets(r, oct, 8);
        if (n < 0) return -1;
        o->mon = oct[0] >> 7, o->src = (oct[0] >> 2) & 7, o->cnf62 = (oct[0] >> 1) & 1;
        if (n > 1) o->tse = (oct[1] >> 6) & 1, o->tsb = (oct[1] >> 5) & 1;
        if (n > 3) o->cst = oct[3] >> 7;
        break;
      }
      case 18: o->alt_m = rf__sext(rf__get(r, 2), 16) * RF_ASTERIX_LSB_ALT_M; break;
      case 27: {
        uint32_t prim = rf__get(r, 1);
        if (prim != 0x80) return -1; /* only APC is written */
        o->apc_x_m = rf__get(r, 2) * RF_ASTERIX_LSB_APC_M;
        o->apc_y_m = rf__get(r, 2) * RF_ASTERIX_LSB_APC_M;
        break;
      }
      default: return -1;
      }
    }
    if (r->bad) return -1;
  }
  return 0;
}

int rf_asterix_decode(const uint8_t *buf, size_t len, rf_asterix_record *recs, size_t max, size_t *n) {
  size_t off = 0, cnt = 0, block = 0;
  *n = 0;
  while (off < len) {
    if (len - off < 3) return rf__err(RF_EFORMAT, "asterix: block %zu: truncated header", block);
    int cat = buf[off];
    size_t blen = ((size_t)buf[off + 1] << 8) | buf[off + 2];
    if (blen < 3 || blen > len - off)
      return rf__err(RF_EFORMAT, "asterix: block %zu: LEN %zu does not fit the buffer", block, blen);
    if (cat != 48 && cat != 62) return rf__err(RF_EFORMAT, "asterix: block %zu: category %d", block, cat);
    rf__rd r = {buf + off + 3, buf + off + blen, 0};
    while (r.p < r.end) {
      if (cnt == max) return rf__err(RF_ERANGE, "asterix: more than %zu records", max);
      if (rf__decode_record(&r, cat, &recs[cnt]) < 0)
        return rf__err(RF_EFORMAT, "asterix: block %zu: record %zu is malformed", block, cnt);
      recs[cnt++].block = block;
    }
    off += blen;
    block++;
  }
  *n = cnt;
  return 0;
}
