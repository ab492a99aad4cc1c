/*
 * log_settings - a config's log settings for log_configure() (see
 * log_settings.h).
 */
#include "log_settings.h"

#include <string.h>

void log_settings_from(const struct loft_settings *set,
		       struct log_settings *log_set_r)
{
	*log_set_r = (struct log_settings) {
		.log_path = set->log_path,
		.info_log_path = set->info_log_path,
		.debug_log_path = set->debug_log_path,
		.syslog_facility = set->syslog_facility,
		.log_timestamp = set->log_timestamp,
		.format = strcmp(set->log_format, "json") == 0 ?
			LOG_FORMAT_JSON : LOG_FORMAT_TEXT,
		.debug = set->mail_debug,
	};
}

void log_configure_from(const struct loft_settings *set)
{
	struct log_settings log_set;
	const char *error;

	log_settings_from(set, &log_set);
	if (log_configure(&log_set, &error) < 0)
		log_warning("%s", error);
}
