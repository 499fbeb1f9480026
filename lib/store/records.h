/* Deep copies and checks of the store records (include/tempo/store.h).
 *
 * Shared by every store (memory now; SQLite and MongoDB later) and by the
 * scheduler core, so that all of them refuse the same bad records with the
 * same messages and hand out copies made the same way.
 *
 * A copy owns everything it points to:
 *   - all its strings live in ONE allocation, which starts at the record's
 *     identifying string (task, schedule, job: `id`; result: `job_id`) — that
 *     is how tempo__*_clear() finds the block, so never re-point that field
 *     of a copy;
 *   - its BSON documents are bson_copy()s (NULL stays NULL; an empty document
 *     stays an empty document);
 *   - its trigger is a new reference (tempo_trigger_ref).
 * Copying never fails half way: on error nothing is allocated and `dst` is
 * zeroed. Clearing a zeroed record is a no-op, so arrays made with calloc can
 * be cleared whether or not every element was filled. */
#ifndef TEMPO_STORE_RECORDS_H
#define TEMPO_STORE_RECORDS_H

#include <tempo/store.h>

/* ---- one record ---- */

tempo_status_t tempo__task_record_copy(tempo_task_record_t *dst, const tempo_task_record_t *src,
                                       tempo_error_t *err);
void tempo__task_record_clear(tempo_task_record_t *rec);

tempo_status_t tempo__schedule_record_copy(tempo_schedule_record_t *dst,
                                           const tempo_schedule_record_t *src, tempo_error_t *err);
void tempo__schedule_record_clear(tempo_schedule_record_t *rec);

tempo_status_t tempo__job_record_copy(tempo_job_record_t *dst, const tempo_job_record_t *src,
                                      tempo_error_t *err);
void tempo__job_record_clear(tempo_job_record_t *rec);

/* src->job_id must not be NULL (it heads the copy's string block). */
tempo_status_t tempo__job_result_copy(tempo_job_result_t *dst, const tempo_job_result_t *src,
                                      tempo_error_t *err);
void tempo__job_result_clear(tempo_job_result_t *rec);

/* ---- arrays of copies ----
 * *out is a new array of `count` copies (NULL when count is 0); free it with
 * the matching _free(array, count). All or nothing. */

tempo_status_t tempo__task_records_dup(const tempo_task_record_t *src, size_t count,
                                       tempo_task_record_t **out, tempo_error_t *err);
void tempo__task_records_free(tempo_task_record_t *recs, size_t count);

tempo_status_t tempo__schedule_records_dup(const tempo_schedule_record_t *src, size_t count,
                                           tempo_schedule_record_t **out, tempo_error_t *err);
void tempo__schedule_records_free(tempo_schedule_record_t *recs, size_t count);

tempo_status_t tempo__job_records_dup(const tempo_job_record_t *src, size_t count,
                                      tempo_job_record_t **out, tempo_error_t *err);
void tempo__job_records_free(tempo_job_record_t *recs, size_t count);

/* ---- checks ----
 * What every store refuses before it keeps a record: TEMPO_EINVAL with a
 * message naming the record and the field ("schedule 'nightly': max_jitter
 * must be >= 0, got -5"). Leases are not checked: stores set them. */

tempo_status_t tempo__task_record_check(const tempo_task_record_t *task, tempo_error_t *err);
tempo_status_t tempo__schedule_record_check(const tempo_schedule_record_t *schedule,
                                            tempo_error_t *err);
tempo_status_t tempo__job_record_check(const tempo_job_record_t *job, tempo_error_t *err);
/* A release_schedules call's arguments, as every store refuses them: the
 * owner, each entry's id and jobs, each take request (whose fence it sets to
 * 0, "not taken", first: the caller may pass anything there). `total`, when
 * not NULL, gets the number of jobs. */
tempo_status_t tempo__releases_check(const char *owner, const tempo_schedule_release_t *rel, size_t count,
                                     size_t *total, tempo_error_t *err);
/* The caller's part of a result (outcome and times); identity fields are the
 * store's business (it takes them from the job it releases). */
tempo_status_t tempo__job_result_check(const tempo_job_result_t *result, tempo_error_t *err);

/* A usable id: not NULL, not empty. */
static inline int tempo__id_ok(const char *id)
{
    return id != NULL && id[0] != '\0';
}

#endif
