/* radarflow: EUROCONTROL ASTERIX output (docs/asterix.md). CAT048
 * (monoradar target reports, edition 1.31) for plots and track reports
 * within 256 NM; CAT015 (INCS target reports, edition 1.1) for plots beyond
 * it; CAT062 (SDPS system track data, edition 1.19) for every track row.
 * What no standard item can hold (range and height beyond their fields,
 * time to go, impact point, IMM mode probabilities) goes into the
 * records' Special Purpose field, laid out in docs/asterix.md. A .ast file
 * is the feed's data blocks (CAT, LEN, records) one after another exactly
 * as sent, each at most RF_ASTERIX_BLOCK_MAX bytes; the .pcap beside it is
 * the same feed recorded on the wire: one UDP/IPv4 datagram per block,
 * stamped with the data's time. A small decoder of what the encoder writes
 * serves the tests. */
#ifndef RF_ASTERIX_H
#define RF_ASTERIX_H

#include "../host/rf_common.h"
#include "../host/rf_geodesy.h"
#include "rf_products.h"
#include "rf_tracks.h"

#define RF_ASTERIX_BLOCK_MAX 1024
#define RF_ASTERIX_RECORD_MAX 128 /* longest record the encoder writes */

typedef struct rf_asterix_source {
  int sac, sic;        /* data source (I048/010, I062/010), 0..255 */
  int service_id;      /* I062/015, 0..255 */
} rf_asterix_source;

/* One record into out (at least RF_ASTERIX_RECORD_MAX bytes); returns its
 * length, or 0 when the values cannot be coded (CAT048: range beyond
 * 256 NM). */
size_t rf_asterix_cat048_plot(uint8_t *out, const rf_asterix_source *src, const rf_plot *p);
/* CAT015 measurement plot: WGS-84 position (from the plot's ENU through
 * site), height, range, Doppler velocity, azimuth, elevation, SNR. */
size_t rf_asterix_cat015_plot(uint8_t *out, const rf_asterix_source *src, const rf_geo_site *site,
                              const rf_plot *p);
size_t rf_asterix_cat048_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r);
/* CAT062 system track; `first`: the track's first message (TSB). */
size_t rf_asterix_cat062_track(uint8_t *out, const rf_asterix_source *src, const rf_track_row *r,
                               int first);

/* The feed, streamed: a .ast file and a .pcap file, both under temporary
 * names until commit renames them (both, or on failure neither). Each call
 * adds one update (one dwell's plots or track rows, one time): plots as
 * CAT048 blocks then CAT015 blocks; rows as CAT048 blocks then CAT062
 * blocks. Memory does not grow with the updates. */
typedef struct rf_asterix_writer rf_asterix_writer;
int rf_asterix_writer_create(rf_asterix_writer **w, const char *ast_path, const char *pcap_path,
                             const rf_asterix_source *src, const rf_geo_site *site);
int rf_asterix_writer_plots(rf_asterix_writer *w, const rf_plot *plots, size_t n);
int rf_asterix_writer_tracks(rf_asterix_writer *w, const rf_track_row *rows, size_t n);
/* Plots that went to CAT015 and track rows CAT048 could not code (beyond
 * 256 NM; they are in CAT062). */
void rf_asterix_writer_counts(const rf_asterix_writer *w, size_t *plots_cat015, size_t *rows_no048);
int rf_asterix_writer_commit(rf_asterix_writer *w);  /* also destroys w */
void rf_asterix_writer_abort(rf_asterix_writer *w);  /* removes the temporaries; NULL is a no-op */

/* The same feed into memory (rf__malloc'd *buf of *len bytes), for tests:
 * plots and rows are grouped into updates by equal time_s. */
int rf_asterix_encode_plots(const rf_asterix_source *src, const rf_geo_site *site, const rf_plot *plots,
                            size_t n, uint8_t **buf, size_t *len, size_t *cat015);
int rf_asterix_encode_tracks(const rf_asterix_source *src, const rf_track_row *rows, size_t n,
                             uint8_t **buf, size_t *len, size_t *skipped);

/* The classic pcap framing of the feed (docs/asterix.md): Ethernet II,
 * IPv4 RF_ASTERIX_PCAP_SRC -> RF_ASTERIX_PCAP_DST (multicast), UDP port
 * RF_ASTERIX_UDP_PORT (Wireshark's ASTERIX port) both ways. */
#define RF_ASTERIX_UDP_PORT 8600
#define RF_ASTERIX_PCAP_SRC "192.0.2.1"
#define RF_ASTERIX_PCAP_DST "239.255.86.0"

/* ---- decoder (the items the encoder writes; others are an error) ---------------- */
typedef struct rf_asterix_record {
  int cat;                         /* 15, 48 or 62 */
  size_t block;                    /* index of its data block */
  uint64_t items;                  /* bit k set: FRN k+1 present */
  int sac, sic, service_id;
  double tod_s;                    /* I048/140 or I062/070 */
  int typ;                         /* I048/020 TYP */
  double range_m, azimuth_deg;     /* I048/040 */
  int track_number;                /* I048/161 or I062/040 */
  double ground_speed_mps, heading_deg; /* I048/200 */
  int cnf, rad, cdm, tre;          /* I048/170 */
  int doppler_valid;               /* I048/120 CAL: D == 0 */
  double doppler_mps;              /* I048/120 CAL */
  double lat_deg, lon_deg;         /* I062/105 */
  double x_m, y_m;                 /* I062/100 */
  double vx_mps, vy_mps;           /* I062/185 */
  int mon, src, cnf62, tse, tsb, cst; /* I062/080 */
  double alt_m;                    /* I062/130 */
  double apc_x_m, apc_y_m;         /* I062/500 APC */
  int msg_type;                    /* I015/000 MT */
  double elevation_deg, snr_db;    /* I015/628 EL, I015/630 RPS; I015/600 -> lat/lon, 601 -> alt_m,
                                      625 -> range_m, 626 -> doppler_mps, 627 -> azimuth_deg */
  /* Special Purpose field (docs/asterix.md); sp_items: RF_ASTERIX_SP_* bits present. */
  unsigned sp_items;
  double sp_range_m, sp_height_m, sp_time_to_go_s, sp_impact_tod_s, sp_impact_lat_deg,
      sp_impact_lon_deg, sp_mode_prob[3];
} rf_asterix_record;

/* Special Purpose field subfields (bits of its indicator octet). */
enum { RF_ASTERIX_SP_RNG = 0x80, RF_ASTERIX_SP_HGT = 0x40, RF_ASTERIX_SP_TTG = 0x20,
       RF_ASTERIX_SP_IMP = 0x10, RF_ASTERIX_SP_MOD = 0x08 };

/* Decodes a buffer of data blocks into recs (up to max); *n gets the count.
 * RF_EFORMAT (message says the block and what is wrong) on a malformed
 * buffer, RF_ERANGE when more than max records. */
int rf_asterix_decode(const uint8_t *buf, size_t len, rf_asterix_record *recs, size_t max,
                      size_t *n);

/* LSBs (docs/asterix.md). */
#define RF_ASTERIX_NM_M 1852.0
#define RF_ASTERIX_LSB_TOD_S (1.0 / 128.0)
#define RF_ASTERIX_LSB_RHO_M (RF_ASTERIX_NM_M / 256.0)
#define RF_ASTERIX_LSB_THETA_DEG (360.0 / 65536.0)
#define RF_ASTERIX_LSB_GSP_MPS (RF_ASTERIX_NM_M / 16384.0)
#define RF_ASTERIX_LSB_HDG_DEG (360.0 / 65536.0)
#define RF_ASTERIX_LSB_DOPPLER_MPS 1.0
#define RF_ASTERIX_LSB_LATLON_DEG (180.0 / 33554432.0)
#define RF_ASTERIX_LSB_XY_M 0.5
#define RF_ASTERIX_LSB_V_MPS 0.25
#define RF_ASTERIX_LSB_ALT_M (6.25 * 0.3048)
#define RF_ASTERIX_LSB_APC_M 0.5
#define RF_ASTERIX_LSB_P84_DEG (180.0 / 2147483648.0)  /* I015/600, SP impact point */
#define RF_ASTERIX_LSB_GH_M 0.01                        /* I015/601 */
#define RF_ASTERIX_LSB_R015_M 0.1                       /* I015/625 R */
#define RF_ASTERIX_LSB_DV_MPS 0.01                      /* I015/626 DV */
#define RF_ASTERIX_LSB_EL015_DEG (180.0 / 65536.0)      /* I015/628 EL */
#define RF_ASTERIX_LSB_SP_M 0.1                         /* SP RNG, HGT */
#define RF_ASTERIX_LSB_SP_PROB (1.0 / 255.0)            /* SP MOD */

#endif
