/* tempo — symbol visibility. Only declarations marked TEMPO_API are exported
 * from the shared library; everything else is hidden. */
#ifndef TEMPO_EXPORT_H
#define TEMPO_EXPORT_H

#if defined(TEMPO_BUILDING) && defined(__GNUC__)
#define TEMPO_API __attribute__((visibility("default")))
#else
#define TEMPO_API
#endif

#endif
