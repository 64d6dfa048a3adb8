/*
 * control_req.c: a control request line to a struct control_req.  The one
 * place untrusted control input is parsed (control.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "control.h"

/* A string member, or NULL when absent; -1 when present but not a string. */
static int
get_string(struct json_object *o, const char *key, const char **out,
    size_t *len, char *err, size_t errlen)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "\"%s\" must be a string", key);
		return -1;
	}
	*out = json_object_get_string(v);
	if (len != NULL)
		*len = (size_t)json_object_get_string_len(v);
	else if (strlen(*out) != (size_t)json_object_get_string_len(v)) {
		snprintf(err, errlen, "\"%s\" contains a NUL", key);
		return -1;
	}
	return 0;
}

int
control_req_parse(const char *line, size_t len, struct control_req *req,
    char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL, *v;
	size_t end;
	int64_t n;

	memset(req, 0, sizeof(*req));
	req->n = -1;
	if (len >= CONTROL_MAX_LINE) {
		snprintf(err, errlen, "request longer than %d bytes",
		    CONTROL_MAX_LINE - 1);
		goto fail;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errlen, "request contains a NUL byte");
		goto fail;
	}
	if ((tok = json_tokener_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	o = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A number ends only where its input does: say it ends. */
		o = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	if (o == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		snprintf(err, errlen, "request is not JSON: %s",
		    e == json_tokener_continue ? "unexpected end"
		                               : json_tokener_error_desc(e));
		goto fail;
	}
	for (; end < len; end++)
		if (line[end] != ' ' && line[end] != '\t') {
			snprintf(err, errlen,
			    "request has bytes after its JSON object");
			goto fail;
		}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "request is not a JSON object");
		goto fail;
	}
	if (get_string(o, "cmd", &req->cmd, NULL, err, errlen) < 0)
		goto fail;
	if (req->cmd == NULL || req->cmd[0] == '\0') {
		snprintf(err, errlen, "request has no \"cmd\"");
		goto fail;
	}
	if (get_string(o, "name", &req->name, NULL, err, errlen) < 0 ||
	    get_string(o, "policy", &req->policy, NULL, err, errlen) < 0 ||
	    get_string(o, "trace", &req->trace, &req->tracelen, err, errlen) <
	        0)
		goto fail;
	if (req->name != NULL && req->name[0] == '\0') {
		snprintf(err, errlen, "\"name\" is empty");
		goto fail;
	}
	if (json_object_object_get_ex(o, "n", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (n = json_object_get_int64(v)) < 0 || n > INT_MAX) {
			snprintf(err, errlen,
			    "\"n\" must be an integer from 0 to %d", INT_MAX);
			goto fail;
		}
		req->n = (long)n;
	}
	if (json_object_object_get_ex(o, "follow", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(
			    err, errlen, "\"follow\" must be true or false");
			goto fail;
		}
		req->follow = json_object_get_boolean(v);
	}
	json_tokener_free(tok);
	req->obj = o;
	return 0;
fail:
	json_object_put(o);
	if (tok != NULL)
		json_tokener_free(tok);
	memset(req, 0, sizeof(*req));
	return -1;
}

void
control_req_free(struct control_req *req)
{
	json_object_put(req->obj);
	memset(req, 0, sizeof(*req));
}
