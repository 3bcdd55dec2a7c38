/* radarflow io/: ASTERIX CAT015 / CAT048 / CAT062 encoder, the feed writer
 * (.ast and .pcap) and the test decoder (rf_asterix.h, docs/asterix.md).
 * Big-endian fields; FSPEC bits in FRN order, 7 per octet with FX in bit 1. */
#include "rf_asterix.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../host/rf_files.h"

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
  int ok = q >= lo && q <= hi;
  *out = ok ? (long long)q : 0;
  return ok;
}

/* Seconds since midnight UTC in 1/128 s, modulo 2^24 (one day is 11059200). */
static uint32_t rf__tod(double time_s) {
  /* The records of an update share its time: the last one is kept (per
   * thread). */
  static _Thread_local double last_t = NAN;
  static _Thread_local uint32_t last_q;
  if (time_s == last_t) return last_q;
  /* fmod(time_s, 86400) without its long division: k 86400 is exact and
   * so is the difference (Sterbenz); a quotient rounded up to the next
   * day gives tod < 0 and the exact fmod after the correction. */
  double tod = time_s - floor(time_s / 86400.0) * 86400.0;
  if (tod < 0) tod += 86400.0;
  if (tod >= 86400.0) tod -= 86400.0;
  long long q = (long long)nearbyint(tod * 128.0);
  last_t = time_s;
  last_q = (uint32_t)(q % (86400LL * 128));
  return last_q;
}

/* FSPEC octet of 7 FRN bits: bit i of the index (FRN 7o+i+1) at bit 7-i. */
static const uint8_t rf__fspec_octet[128] = {
    0x00, 0x80, 0x40, 0xc0, 0x20, 0xa0, 0x60, 0xe0, 0x10, 0x90, 0x50, 0xd0, 0x30, 0xb0, 0x70, 0xf0,
    0x08, 0x88, 0x48, 0xc8, 0x28, 0xa8, 0x68, 0xe8, 0x18, 0x98, 0x58, 0xd8, 0x38, 0xb8, 0x78, 0xf8,
    0x04, 0x84, 0x44, 0xc4, 0x24, 0xa4, 0x64, 0xe4, 0x14, 0x94, 0x54, 0xd4, 0x34, 0xb4, 0x74, 0xf4,
    0x0c, 0x8c, 0x4c, 0xcc, 0x2c, 0xac, 0x6c, 0xec, 0x1c, 0x9c, 0x5c, 0xdc, 0x3c, 0xbc, 0x7c, 0xfc,
    0x02, 0x82, 0x42, 0xc2, 0x22, 0xa2, 0x62, 0xe2, 0x12, 0x92, 0x52, 0xd2, 0x32, 0xb2, 0x72, 0xf2,
    0x0a, 0x8a, 0x4a, 0xca, 0x2a, 0xaa, 0x6a, 0xea, 0x1a, 0x9a, 0x5a, 0xda, 0x3a, 0xba, 0x7a, 0xfa,
    0x06, 0x86, 0x46, 0xc6, 0x26, 0xa6, 0x66, 0xe6, 0x16, 0x96, 0x56, 0xd6, 0x36, 0xb6, 0x76, 0xf6,
    0x0e, 0x8e, 0x4e, 0xce, 0x2e, 0xae, 0x6e, 0xee, 0x1e, 0x9e, 0x5e, 0xde, 0x3e, 0xbe, 0x7e, 0xfe,
};

/* Writes FSPEC for the FRNs set in `frn` (bit k = FRN k+1). */
static uint8_t *rf__fspec(uint8_t *p, uint64_t frn) {
  int last = frn ? 63 - __builtin_clzll(frn) : 0;
  int octets = last / 7 + 1;
  for (int o = 0; o < octets; o++) *p++ = (uint8_t)(rf__fspec_octet[(frn >> (7 * o)) & 0x7f] | (o + 1 < octets));
  return p;
}
#define RF__FRN(n) (1ull << ((n) - 1))

/* The Special Purpose field (docs/asterix.md): LEN, an indicator octet,
 * then the subfields it names. Values that are NaN are left out; returns
 * the end, or p unchanged when nothing is to be said. */
typedef struct rf__sp {
  double range_m, height_m, ttg_s, impact_time_s, impact_lat_deg, impact_lon_deg;
  int mod;               /* write the mode probabilities */
  double prob[3];
} rf__sp;

static uint8_t *rf__put_sp(uint8_t *p, const rf__sp *v) {
  long long rng = 0, hgt = 0, ttg = 0, ilat = 0, ilon = 0;
  unsigned ind = 0;
  if (rf__quant(v->range_m, RF_ASTERIX_LSB_SP_M, 0, 4294967295.0, &rng)) ind |= RF_ASTERIX_SP_RNG;
  if (rf__quant(v->height_m, RF_ASTERIX_LSB_SP_M, -2147483648.0, 2147483647.0, &hgt)) ind |= RF_ASTERIX_SP_HGT;
  if (rf__quant(v->ttg_s, RF_ASTERIX_LSB_TOD_S, 0, 16777215, &ttg)) ind |= RF_ASTERIX_SP_TTG;
  if (isfinite(v->impact_time_s) && rf__quant(v->impact_lat_deg, RF_ASTERIX_LSB_P84_DEG, -1073741824.0, 1073741823.0, &ilat) &&
      rf__quant(rf_wrap(v->impact_lon_deg, 180.0), RF_ASTERIX_LSB_P84_DEG, -2147483648.0, 2147483647.0, &ilon))
    ind |= RF_ASTERIX_SP_IMP;
  if (v->mod) ind |= RF_ASTERIX_SP_MOD;
  if (!ind) return p;
  uint8_t *len = p;
  p += 1;
  p = rf__put8(p, ind);
  if (ind & RF_ASTERIX_SP_RNG) p = rf__put32(p, (uint32_t)rng);
  if (ind & RF_ASTERIX_SP_HGT) p = rf__put32(p, (uint32_t)hgt);
  if (ind & RF_ASTERIX_SP_TTG) p = rf__put24(p, (uint32_t)ttg);
  if (ind & RF_ASTERIX_SP_IMP) {
    p = rf__put24(p, rf__tod(v->impact_time_s));
    p = rf__put32(p, (uint32_t)ilat), p = rf__put32(p, (uint32_t)ilon);
  }
  if (ind & RF_ASTERIX_SP_MOD)
    for (int k = 0; k < 3; k++) {
      double q = nearbyint(v->prob[k] / RF_ASTERIX_LSB_SP_PROB);
      p = rf__put8(p, (uint32_t)(q > 255 ? 255 : q < 0 || !(q == q) ? 0 : q));
    }
  *len = (uint8_t)(p - len);
  return p;
}

/* Whether I048/040 can carry a range (256 NM). */
static int rf__polar_fits(double range_m) {
  long long r;
  return rf__quant(range_m, RF_ASTERIX_LSB_RHO_M, 0, 65535, &r);
}

/* I048/040 of a range and azimuth; 0 when beyond 256 NM (rf__polar_fits). */
static int rf__polar(double range_m, double az_deg, uint32_t *rho, uint32_t *theta) {
  long long r, t = 0;
  if (!rf__quant(range_m, RF_ASTERIX_LSB_RHO_M, 0, 65535, &r)) return 0;
  double a = az_deg;
  if (!(a >= 0 && a < 360.0)) {
    a = fmod(a, 360.0);
    if (a < 0) a += 360.0;
  }
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
  uint64_t frn = RF__FRN(1) | RF__FRN(2) | RF__FRN(3) | RF__FRN(4) | (has_dop ? RF__FRN(20) : 0);
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

size_t rf_asterix_cat015_plot(uint8_t *out, const rf_asterix_source *src, const rf_geo_site *site,
                              const rf_plot *p) {
  double enu[3] = {p->east_m, p->north_m, p->up_m}, lat, lon, h;
  rf_geo_enu_to_geodetic(site, enu, &lat, &lon, &h);
  long long qlat = 0, qlon = 0, gh, r, dv, az = 0, el, snr;
  rf__quant(lat, RF_ASTERIX_LSB_P84_DEG, -1073741824.0, 1073741823.0, &qlat);
  rf__quant(rf_wrap(lon, 180.0), RF_ASTERIX_LSB_P84_DEG, -2147483648.0, 2147483647.0, &qlon);
  int has_gh = rf__quant(h, RF_ASTERIX_LSB_GH_M, -8328600, 8328600, &gh);
  int has_r = rf__quant(p->range_m, RF_ASTERIX_LSB_R015_M, -8388607, 8388607, &r);
  int has_dv = rf__quant(p->radial_velocity_mps, RF_ASTERIX_LSB_DV_MPS, -8388607, 8388607, &dv);
  double a = p->azimuth_deg;
  if (!(a >= 0 && a < 360.0)) {
    a = fmod(a, 360.0);
    if (a < 0) a += 360.0;
  }
  rf__quant(a, RF_ASTERIX_LSB_THETA_DEG, 0, 65536, &az);
  int has_el = rf__quant(p->elevation_deg, RF_ASTERIX_LSB_EL015_DEG, -32768, 32767, &el);
  int has_snr = rf__quant(p->snr_db, 1.0, -128, 127, &snr);
  rf__sp sp = {.range_m = has_r ? NAN : p->range_m, .height_m = has_gh ? NAN : h, .ttg_s = NAN,
               .impact_time_s = NAN};
  uint8_t spbuf[40], *spe = rf__put_sp(spbuf, &sp);
  uint64_t frn = RF__FRN(1) | RF__FRN(2) | RF__FRN(4) | RF__FRN(6) | RF__FRN(13) | (has_gh ? RF__FRN(14) : 0) |
                 (has_r ? RF__FRN(20) : 0) | (has_dv ? RF__FRN(21) : 0) | RF__FRN(22) |
                 (has_el ? RF__FRN(23) : 0) | (has_snr ? RF__FRN(24) : 0) | (spe > spbuf ? RF__FRN(26) : 0);
  uint8_t *q = rf__fspec(out, frn);
  q = rf__put8(q, (uint32_t)src->sac), q = rf__put8(q, (uint32_t)src->sic); /* 010 */
  q = rf__put8(q, (1u << 1) | 1u);              /* 000: MT 1 (measurement plot), RG 1 (event driven) */
  q = rf__put8(q, 0);                           /* 020: mono-static, actual target, scan unknown */
  q = rf__put24(q, rf__tod(p->time_s));         /* 145 */
  q = rf__put8(q, 0x80);                        /* 600: P84 */
  q = rf__put32(q, (uint32_t)qlat), q = rf__put32(q, (uint32_t)qlon);
  if (has_gh) q = rf__put8(q, 0x80), q = rf__put24(q, (uint32_t)gh & 0xffffff);     /* 601: GH */
  if (has_r) q = rf__put8(q, 0x80), q = rf__put24(q, (uint32_t)r & 0xffffff);       /* 625: R */
  if (has_dv) q = rf__put8(q, 0x80), q = rf__put24(q, (uint32_t)dv & 0xffffff);     /* 626: DV */
  q = rf__put8(q, 0x80), q = rf__put16(q, (uint32_t)az & 0xffff);                   /* 627: AZ */
  if (has_el) q = rf__put8(q, 0x80), q = rf__put16(q, (uint32_t)el & 0xffff);       /* 628: EL */
  if (has_snr) q = rf__put8(q, 0x10), q = rf__put8(q, (uint32_t)snr & 0xff);        /* 630: RPS */
  memcpy(q, spbuf, (size_t)(spe - spbuf));                                          /* SP */
  q += spe - spbuf;
  return (size_t)(q - out);
}

size_t rf_asterix_cat048_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r) {
  uint32_t rho, theta;
  if (!rf__polar(r->range_m, r->azimuth_deg, &rho, &theta)) return 0;
  long long dop, gsp, hdg = 0;
  int has_dop = rf__quant(r->radial_velocity_mps, RF_ASTERIX_LSB_DOPPLER_MPS, -512, 511, &dop);
  double gs = sqrt(r->v_east_mps * r->v_east_mps + r->v_north_mps * r->v_north_mps);
  double h = atan2(r->v_east_mps, r->v_north_mps) / RF__DEG;
  if (h < 0) h += 360.0;
  int has_vel = rf__quant(gs, RF_ASTERIX_LSB_GSP_MPS, 0, 65535, &gsp);
  rf__quant(h, RF_ASTERIX_LSB_HDG_DEG, 0, 65536, &hdg);
  uint64_t frn = RF__FRN(1) | RF__FRN(2) | RF__FRN(3) | RF__FRN(4) | RF__FRN(11) |
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
  double lo = r->longitude_deg + 180.0;
  if (!(lo >= 0 && lo < 360.0)) {
    lo = fmod(lo, 360.0);
    if (lo < 0) lo += 360.0;
  }
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
  /* Special Purpose: height beyond I062/130, time to go, impact, modes. */
  rf__sp sp = {.range_m = NAN, .height_m = has_alt ? NAN : r->altitude_m, .ttg_s = r->time_to_go_s,
               .impact_time_s = r->impact_time_s, .impact_lat_deg = r->impact_latitude_deg,
               .impact_lon_deg = r->impact_longitude_deg, .mod = 1,
               .prob = {r->imm_cv_prob, r->imm_manoeuvre_prob, r->imm_ballistic_prob}};
  uint8_t spbuf[40], *spe = rf__put_sp(spbuf, &sp);
  uint64_t frn = RF__FRN(1) | RF__FRN(3) | RF__FRN(4) | RF__FRN(5) | (has_xy ? RF__FRN(6) : 0) |
                 (has_v ? RF__FRN(7) : 0) | RF__FRN(12) | RF__FRN(13) | (has_alt ? RF__FRN(18) : 0) |
                 RF__FRN(27) | RF__FRN(35);
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
  memcpy(q, spbuf, (size_t)(spe - spbuf));                                   /* SP */
  q += spe - spbuf;
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

/* One update of plots: CAT048 records, then CAT015 for those beyond it. */
static int rf__add_plots(rf__abuf *b, const rf_asterix_source *src, const rf_geo_site *site,
                         const rf_plot *plots, size_t n, size_t *n015) {
  uint8_t rec[RF_ASTERIX_RECORD_MAX];
  size_t beyond = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = rf_asterix_cat048_plot(rec, src, &plots[i]);
    if (!l) {
      beyond++;
      continue;
    }
    if (rf__abuf_add(b, 48, rec, l) < 0) return -1;
  }
  for (size_t i = 0; beyond && i < n; i++) {
    if (rf__polar_fits(plots[i].range_m)) continue; /* went to CAT048 above */
    size_t l = rf_asterix_cat015_plot(rec, src, site, &plots[i]);
    (*n015)++, beyond--;
    if (rf__abuf_add(b, 15, rec, l) < 0) return -1;
  }
  rf__abuf_close(b);
  return 0;
}

/* One update of track rows: CAT048 track reports, then CAT062. *max_id:
 * the highest id seen so far (ids are given in creation order, so a
 * track's first row is the first with an id above all earlier ones). */
static int rf__add_tracks(rf__abuf *b, const rf_asterix_source *src, const rf_track_row *rows, size_t n,
                          int32_t *max_id, size_t *skipped) {
  uint8_t rec[RF_ASTERIX_RECORD_MAX];
  for (size_t i = 0; i < n; i++) {
    size_t l = rf_asterix_cat048_track(rec, src, &rows[i]);
    if (!l) {
      (*skipped)++;
      continue;
    }
    if (rf__abuf_add(b, 48, rec, l) < 0) return -1;
  }
  for (size_t i = 0; i < n; i++) {
    int first = rows[i].track_id > *max_id;
    if (first) *max_id = rows[i].track_id;
    size_t l = rf_asterix_cat062_track(rec, src, &rows[i], first);
    if (rf__abuf_add(b, 62, rec, l) < 0) return -1;
  }
  rf__abuf_close(b);
  return 0;
}

int rf_asterix_encode_plots(const rf_asterix_source *src, const rf_geo_site *site, const rf_plot *plots,
                            size_t n, uint8_t **buf, size_t *len, size_t *cat015) {
  rf__abuf b = {.block = SIZE_MAX};
  size_t c15 = 0;
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && plots[j].time_s == plots[i].time_s; j++) {}
    if (rf__add_plots(&b, src, site, plots + i, j - i, &c15) < 0) {
      rf__free(b.v);
      return rf__err(RF_ENOMEM, "asterix: out of memory");
    }
  }
  *buf = b.v;
  *len = b.n;
  if (cat015) *cat015 = c15;
  return 0;
}

int rf_asterix_encode_tracks(const rf_asterix_source *src, const rf_track_row *rows, size_t n,
                             uint8_t **buf, size_t *len, size_t *skipped) {
  rf__abuf b = {.block = SIZE_MAX};
  size_t sk = 0;
  int32_t max_id = 0;
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && rows[j].time_s == rows[i].time_s; j++) {}
    if (rf__add_tracks(&b, src, rows + i, j - i, &max_id, &sk) < 0) {
      rf__free(b.v);
      return rf__err(RF_ENOMEM, "asterix: out of memory");
    }
  }
  *buf = b.v;
  *len = b.n;
  if (skipped) *skipped = sk;
  return 0;
}

/* ---- the feed: .ast and .pcap -------------------------------------------------------- */
/* Frame headers of one datagram: Ethernet II (to the IPv4 multicast MAC),
 * IPv4 (20 bytes, no options), UDP. */
#define RF__FRAME_HDR 42

struct rf_asterix_writer {
  rf_asterix_source src;
  rf_geo_site site;
  char *path[2], *tmp[2];     /* .ast, .pcap */
  FILE *fp[2];
  rf__abuf b;
  int32_t max_id;
  uint16_t ip_id;
  size_t n015, skipped;
  uint32_t src_ip, dst_ip;
  rf_writeback wb[2];
  char *iobuf[2]; /* stdio buffers of RF__AST_IO_BUF: big writes, few system calls */
};

#define RF__AST_IO_BUF ((size_t)256 << 10)

static uint32_t rf__ipv4(const char *dotted) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  sscanf(dotted, "%u.%u.%u.%u", &a, &b, &c, &d);
  return (a << 24) | (b << 16) | (c << 8) | d;
}

/* One's complement sum of 16-bit words (RFC 1071), folded. */
/* Adds the big-endian 16-bit words of p (n bytes; only the last piece of
 * a checksum may be odd) to sum. Whole 32-bit words are summed in native
 * order and folded, then swapped to big-endian: the one's complement sum
 * does not depend on the byte order (RFC 1071, 2.B). */
static uint32_t rf__csum_add(uint32_t sum, const uint8_t *p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4);
    acc += w;
  }
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  acc = ((acc & 0xff) << 8) | (acc >> 8);
#endif
  sum += (uint32_t)acc;
  for (; i + 1 < n; i += 2) sum += ((uint32_t)p[i] << 8) | p[i + 1];
  if (n & 1) sum += (uint32_t)p[n - 1] << 8;
  return sum;
}
static uint16_t rf__csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* The pcap record of one block sent at time_s. */
static int rf__pcap_block(rf_asterix_writer *w, double time_s, const uint8_t *blk, size_t len) {
  uint8_t h[16 + RF__FRAME_HDR], *eth = h + 16, *ip = eth + 14, *udp = ip + 20;
  double sec = floor(time_s);
  long long usec = llround((time_s - sec) * 1e6);
  if (usec >= 1000000) sec += 1, usec -= 1000000;
  uint32_t ts = (uint32_t)(long long)sec, tu = (uint32_t)usec, caplen = (uint32_t)(RF__FRAME_HDR + len);
  memcpy(h, &ts, 4), memcpy(h + 4, &tu, 4), memcpy(h + 8, &caplen, 4), memcpy(h + 12, &caplen, 4);
  /* Ethernet: 01:00:5e + the low 23 bits of the group; a locally
   * administered source. */
  uint8_t mac_dst[6] = {0x01, 0x00, 0x5e, (uint8_t)((w->dst_ip >> 16) & 0x7f), (uint8_t)(w->dst_ip >> 8), (uint8_t)w->dst_ip};
  uint8_t mac_src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  memcpy(eth, mac_dst, 6), memcpy(eth + 6, mac_src, 6);
  eth[12] = 0x08, eth[13] = 0x00;
  size_t iplen = 20 + 8 + len;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  rf__put16(ip + 2, (uint32_t)iplen);
  rf__put16(ip + 4, w->ip_id++);
  ip[6] = 0x40; /* don't fragment */
  ip[8] = 16;   /* TTL */
  ip[9] = 17;   /* UDP */
  rf__put32(ip + 12, w->src_ip), rf__put32(ip + 16, w->dst_ip);
  rf__put16(ip + 10, rf__csum_fold(rf__csum_add(0, ip, 20)));
  rf__put16(udp, RF_ASTERIX_UDP_PORT), rf__put16(udp + 2, RF_ASTERIX_UDP_PORT);
  rf__put16(udp + 4, (uint32_t)(8 + len));
  udp[6] = udp[7] = 0;
  uint8_t pseudo[12];
  rf__put32(pseudo, w->src_ip), rf__put32(pseudo + 4, w->dst_ip);
  pseudo[8] = 0, pseudo[9] = 17;
  rf__put16(pseudo + 10, (uint32_t)(8 + len));
  uint32_t sum = rf__csum_add(rf__csum_add(rf__csum_add(0, pseudo, 12), udp, 8), blk, len);
  uint16_t c = rf__csum_fold(sum);
  rf__put16(udp + 6, c ? c : 0xffff);
  if (fwrite(h, 1, sizeof h, w->fp[1]) != sizeof h || fwrite(blk, 1, len, w->fp[1]) != len) return -1;
  return 0;
}

/* Writes the blocks built for one update to both files and empties b. */
static int rf__writer_flush(rf_asterix_writer *w, double time_s) {
  errno = 0;
  if (w->b.n && fwrite(w->b.v, 1, w->b.n, w->fp[0]) != w->b.n)
    return rf__err(RF_EIO, "%s: cannot write: %s", w->path[0], strerror(errno ? errno : EIO));
  for (size_t off = 0; off < w->b.n;) {
    size_t bl = ((size_t)w->b.v[off + 1] << 8) | w->b.v[off + 2];
    if (rf__pcap_block(w, time_s, w->b.v + off, bl) < 0)
      return rf__err(RF_EIO, "%s: cannot write: %s", w->path[1], strerror(errno ? errno : EIO));
    off += bl;
  }
  rf_writeback_note(&w->wb[0], w->b.n);
  rf_writeback_note(&w->wb[1], w->b.n); /* and its frame headers, near enough */
  w->b.n = 0;
  return 0;
}

static void rf__writer_free(rf_asterix_writer *w) {
  for (int k = 0; k < 2; k++) {
    if (w->fp[k]) fclose(w->fp[k]);
    if (w->tmp[k]) unlink(w->tmp[k]);
    rf__free(w->tmp[k]);
    rf__free(w->path[k]);
    rf__free(w->iobuf[k]); /* after fclose: stdio used it */
  }
  rf__free(w->b.v);
  rf__free(w);
}

void rf_asterix_writer_abort(rf_asterix_writer *w) {
  if (w) rf__writer_free(w);
}

int rf_asterix_writer_create(rf_asterix_writer **out, const char *ast_path, const char *pcap_path,
                             const rf_asterix_source *src, const rf_geo_site *site) {
  *out = NULL;
  rf_asterix_writer *w = rf__calloc(1, sizeof *w);
  if (!w) return rf__err(RF_ENOMEM, "%s: out of memory", ast_path);
  w->src = *src;
  w->site = *site;
  w->b.block = SIZE_MAX;
  w->src_ip = rf__ipv4(RF_ASTERIX_PCAP_SRC);
  w->dst_ip = rf__ipv4(RF_ASTERIX_PCAP_DST);
  const char *paths[2] = {ast_path, pcap_path};
  for (int k = 0; k < 2; k++) {
    size_t l = strlen(paths[k]) + 1;
    if (!(w->path[k] = rf__malloc(l)) || !(w->tmp[k] = rf_tmp_path(paths[k]))) {
      rf__writer_free(w);
      return rf__err(RF_ENOMEM, "%s: out of memory", paths[k]);
    }
    memcpy(w->path[k], paths[k], l);
    errno = 0;
    if (!(w->iobuf[k] = rf__malloc(RF__AST_IO_BUF))) {
      rf__writer_free(w);
      return rf__err(RF_ENOMEM, "%s: out of memory", paths[k]);
    }
    if (!(w->fp[k] = fopen(w->tmp[k], "wb"))) {
      int st = rf__err(RF_EIO, "%s: cannot write: %s", paths[k], strerror(errno ? errno : EIO));
      rf__free(w->tmp[k]); /* not created */
      w->tmp[k] = NULL;
      rf__writer_free(w);
      return st;
    }
    setvbuf(w->fp[k], w->iobuf[k], _IOFBF, RF__AST_IO_BUF);
    w->wb[k].fd = fileno(w->fp[k]);
  }
  /* pcap global header: microsecond timestamps, version 2.4, Ethernet. */
  uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
  if (fwrite(gh, 4, 6, w->fp[1]) != 6) {
    int st = rf__err(RF_EIO, "%s: cannot write: %s", pcap_path, strerror(errno ? errno : EIO));
    rf__writer_free(w);
    return st;
  }
  *out = w;
  return 0;
}

int rf_asterix_writer_plots(rf_asterix_writer *w, const rf_plot *plots, size_t n) {
  if (!n) return 0;
  if (rf__add_plots(&w->b, &w->src, &w->site, plots, n, &w->n015) < 0)
    return rf__err(RF_ENOMEM, "%s: out of memory", w->path[0]);
  return rf__writer_flush(w, plots[0].time_s);
}

int rf_asterix_writer_tracks(rf_asterix_writer *w, const rf_track_row *rows, size_t n) {
  if (!n) return 0;
  if (rf__add_tracks(&w->b, &w->src, rows, n, &w->max_id, &w->skipped) < 0)
    return rf__err(RF_ENOMEM, "%s: out of memory", w->path[0]);
  return rf__writer_flush(w, rows[0].time_s);
}

void rf_asterix_writer_counts(const rf_asterix_writer *w, size_t *plots_cat015, size_t *rows_no048) {
  if (plots_cat015) *plots_cat015 = w->n015;
  if (rows_no048) *rows_no048 = w->skipped;
}

int rf_asterix_writer_commit(rf_asterix_writer *w) {
  int st = 0;
  for (int k = 0; k < 2 && !st; k++) {
    errno = 0;
    int bad = fflush(w->fp[k]) != 0 || ferror(w->fp[k]);
    int cr = fclose(w->fp[k]);
    w->fp[k] = NULL;
    if (bad || cr != 0) st = rf__err(RF_EIO, "%s: cannot write: %s", w->path[k], strerror(errno ? errno : EIO));
  }
  for (int k = 0; k < 2 && !st; k++) {
    st = rf_commit_tmp(w->tmp[k], w->path[k]);
    rf__free(w->tmp[k]);
    w->tmp[k] = NULL;
    if (st && k == 1) remove(w->path[0]); /* both or neither */
  }
  rf__writer_free(w);
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

/* The Special Purpose field as rf__put_sp writes it. */
static int rf__decode_sp(rf__rd *r, rf_asterix_record *o) {
  const uint8_t *start = r->p;
  size_t len = rf__get(r, 1);
  unsigned ind = rf__get(r, 1);
  if (r->bad || len < 2 || (ind & 0x07)) return -1;
  o->sp_items = ind;
  if (ind & RF_ASTERIX_SP_RNG) o->sp_range_m = rf__get(r, 4) * RF_ASTERIX_LSB_SP_M;
  if (ind & RF_ASTERIX_SP_HGT) o->sp_height_m = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_SP_M;
  if (ind & RF_ASTERIX_SP_TTG) o->sp_time_to_go_s = rf__get(r, 3) * RF_ASTERIX_LSB_TOD_S;
  if (ind & RF_ASTERIX_SP_IMP) {
    o->sp_impact_tod_s = rf__get(r, 3) * RF_ASTERIX_LSB_TOD_S;
    o->sp_impact_lat_deg = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_P84_DEG;
    o->sp_impact_lon_deg = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_P84_DEG;
  }
  if (ind & RF_ASTERIX_SP_MOD)
    for (int k = 0; k < 3; k++) o->sp_mode_prob[k] = rf__get(r, 1) * RF_ASTERIX_LSB_SP_PROB;
  if (r->bad || (size_t)(r->p - start) != len) return -1;
  return 0;
}

/* The CAT015 items rf_asterix_cat015_plot writes (compound items with one
 * subfield each). */
static int rf__decode_015(rf__rd *r, int frn, rf_asterix_record *o) {
  uint32_t prim;
  switch (frn) {
  case 1: o->sac = (int)rf__get(r, 1), o->sic = (int)rf__get(r, 1); return 0;
  case 2: o->msg_type = (int)(rf__get(r, 1) >> 1); return 0;
  case 4: {
    uint8_t oct[8];
    return rf__fx_octets(r, oct, 8) < 0 ? -1 : 0;
  }
  case 6: o->tod_s = rf__get(r, 3) / 128.0; return 0;
  case 13:
    if ((prim = rf__get(r, 1)) != 0x80) return -1;
    o->lat_deg = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_P84_DEG;
    o->lon_deg = rf__sext(rf__get(r, 4), 32) * RF_ASTERIX_LSB_P84_DEG;
    return 0;
  case 14:
    if ((prim = rf__get(r, 1)) != 0x80) return -1;
    o->alt_m = rf__sext(rf__get(r, 3), 24) * RF_ASTERIX_LSB_GH_M;
    return 0;
  case 20:
    if ((prim = rf__get(r, 1)) != 0x80) return -1;
    o->range_m = rf__sext(rf__get(r, 3), 24) * RF_ASTERIX_LSB_R015_M;
    return 0;
  case 21:
    if ((prim = rf__get(r, 1)) != 0x80) return -1;
    o->doppler_valid = 1;
    o->doppler_mps = rf__sext(rf__get(r, 3), 24) * RF_ASTERIX_LSB_DV_MPS;
    return 0;
  case 22:
    if ((prim = rf__get(r, 1)) != 0x80) return -1;
    o->azimuth_deg = rf__get(r, 2) * RF_ASTERIX_LSB_THETA_DEG;
    return 0;
  case 23:
    if ((prim = rf__get(r, 1)) != 0x80) return -1;
    o->elevation_deg = rf__sext(rf__get(r, 2), 16) * RF_ASTERIX_LSB_EL015_DEG;
    return 0;
  case 24:
    if ((prim = rf__get(r, 1)) != 0x10) return -1;
    o->snr_db = rf__sext(rf__get(r, 1), 8);
    return 0;
  default: return -1;
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
      if (fs[k] & (0x80 >> i)) o->items |= 1ull << (k * 7 + i);
  for (int frn = 1; frn <= nfs * 7; frn++) {
    if (!(o->items & RF__FRN(frn))) continue;
    uint8_t oct[8];
    if ((cat == 62 && frn == 35) || (cat == 15 && frn == 26)) {
      if (rf__decode_sp(r, o) < 0) return -1;
    } else if (cat == 15) {
      if (rf__decode_015(r, frn, o) < 0) return -1;
    } else if (cat == 48) {
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
    if (cat != 15 && cat != 48 && cat != 62)
      return rf__err(RF_EFORMAT, "asterix: block %zu: category %d", block, cat);
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
