/*
 * log_settings - the log settings of a parsed config (log_path,
 * info_log_path, debug_log_path, syslog_facility, log_timestamp,
 * log_format, mail_debug) as the log library takes them.
 */
#ifndef LOFT_LOG_SETTINGS_H
#define LOFT_LOG_SETTINGS_H

#include "log.h"
#include "settings.h"

/* log_settings_from - fill *log_set_r from set; the strings stay set's */
void log_settings_from(const struct loft_settings *set,
		       struct log_settings *log_set_r);

/* log_configure_from - log_configure() with set's log settings; a file
   that cannot be opened is reported as a warning and logging goes on
   (stderr/syslog fallback): a broken log never stops loft */
void log_configure_from(const struct loft_settings *set);

#endif
