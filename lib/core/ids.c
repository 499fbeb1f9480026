/* Random and derived identifiers, and the scheduler's random numbers.
 *
 * Job ids for scheduled fires are derived, not random: the same (schedule,
 * fire time) always yields the same id. That is what makes releasing a
 * schedule idempotent — if a scheduler dies after its jobs were stored but
 * before the schedule was updated, whoever re-processes the schedule makes
 * jobs with the same ids, and the store keeps one of each (DESIGN.md §5,
 * "no double runs"). */
#include <string.h>

#include "sched_internal.h"

/* splitmix64: tiny, fast, statistically good; also the finaliser below. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t tempo__rng_next(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(*state);
}

/* Two hex digits per byte, most significant first. */
static char *put_hex(char *p, uint64_t v, int bytes)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = bytes - 1; i >= 0; i--) {
        unsigned b = (unsigned)(v >> (8 * i)) & 0xffu;
        *p++ = hex[b >> 4];
        *p++ = hex[b & 0xf];
    }
    return p;
}

/* 8-4-4-4-12 lowercase hex. By hand: this runs once per job made, and
 * snprintf was a third of a scheduling step's instructions. A byte at a
 * time, each group straight from its bits. */
static void format_uuid(uint64_t hi, uint64_t lo, int version, char out[37])
{
    hi = (hi & ~UINT64_C(0xf000)) | ((uint64_t)version << 12);   /* version nibble */
    lo = (lo & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);      /* RFC 4122 variant */
    char *p = put_hex(out, hi >> 32, 4);
    *p++ = '-';
    p = put_hex(p, hi >> 16, 2);
    *p++ = '-';
    p = put_hex(p, hi, 2);
    *p++ = '-';
    p = put_hex(p, lo >> 48, 2);
    *p++ = '-';
    p = put_hex(p, lo, 6);
    *p = '\0';
}

void tempo__uuid_random(uint64_t *rng, char out[37])
{
    uint64_t hi = tempo__rng_next(rng), lo = tempo__rng_next(rng);
    format_uuid(hi, lo, 4, out);
}

/* Two independent 64-bit hashes of (id, time): FNV-1a over the bytes with
 * different offset bases, each finished with mix64 for avalanche. Not
 * cryptographic — ids only need to be unique per (schedule, time), and a
 * 128-bit hash makes accidental collisions negligible. */
static void hash_fire(const char *id, tempo_time_t t, uint64_t *h1, uint64_t *h2)
{
    uint64_t a = UINT64_C(0xcbf29ce484222325), b = UINT64_C(0x84222325cbf29ce4);
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        a = (a ^ *p) * UINT64_C(0x100000001b3);
        b = (b ^ *p) * UINT64_C(0x100000001b3);
    }
    uint64_t ut = (uint64_t)t;
    for (int i = 0; i < 8; i++) {
        unsigned char byte = (unsigned char)(ut >> (8 * i));
        a = (a ^ byte) * UINT64_C(0x100000001b3);
        b = (b ^ (byte ^ 0x5a)) * UINT64_C(0x100000001b3);
    }
    *h1 = mix64(a);
    *h2 = mix64(b ^ *h1);
}

void tempo__uuid_for_fire(const char *schedule_id, tempo_time_t fire_time, char out[37])
{
    uint64_t h1, h2;
    hash_fire(schedule_id, fire_time, &h1, &h2);
    format_uuid(h1, h2, 8, out); /* version 8: custom, derived */
}

double tempo__unit_hash(const char *id, tempo_time_t fire_time)
{
    uint64_t h1, h2;
    hash_fire(id, fire_time, &h1, &h2);
    return (double)(h2 >> 11) * 0x1.0p-53;
}
