/* tempo — run jobs on schedules inside your own event loop. Umbrella header. */
#ifndef TEMPO_H
#define TEMPO_H

#include <tempo/version.h>
#include <tempo/error.h>
#include <tempo/clock.h>
#include <tempo/trigger.h>
#include <tempo/loop.h>
#include <tempo/store.h>
#include <tempo/sqlite.h>
#include <tempo/mongo.h>
#include <tempo/process.h>
#include <tempo/event.h>
#include <tempo/task.h>
#include <tempo/schedule.h>
#include <tempo/scheduler.h>
#include <tempo/virtual.h>

#endif
