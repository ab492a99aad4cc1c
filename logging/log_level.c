/*
 * log_level - level names shared by the text and JSON formatters.
 */
#include "log.h"

static const char *const log_level_names[LOG_LEVEL_COUNT] = {
	"Debug", "Info", "Warning", "Error", "Fatal", "Panic",
};

const char *log_level_name(enum log_level level)
{
	if ((unsigned int)level >= LOG_LEVEL_COUNT)
		return "Unknown";
	return log_level_names[level];
}
