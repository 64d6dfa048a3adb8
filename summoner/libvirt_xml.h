/*
 * libvirt_xml.h: domain XML for backend libvirt, from a template.
 *
 * A template is any libvirt domain XML with placeholders (docs/config.md
 * "domain-xml"): "{name}" is replaced by its value, XML-escaped, so a
 * value can never add markup; "{{" and "}}" are literal braces.  Without
 * a template the built-in one is used: a QEMU microvm with the kernel
 * image, COM1 and COM2 on unix sockets, pvpanic and isa-debug-exit.
 */
#ifndef SUMMONER_LIBVIRT_XML_H
#define SUMMONER_LIBVIRT_XML_H

#include <stddef.h>

#include "util.h"

/* The placeholders of a domain XML template, in this order. */
enum lv_xml_var {
	LV_XML_NAME,      /* the domain's name, summoner-<service>-<id> */
	LV_XML_MEMORY,    /* MiB */
	LV_XML_IMAGE,     /* the kernel image, absolute */
	LV_XML_ARGS,      /* the kernel command line */
	LV_XML_CONSOLE,   /* COM1's unix socket */
	LV_XML_HEARTBEAT, /* COM2's unix socket */
	LV_XML_SERVICE,
	LV_XML_ID,
	LV_XML_MAC, /* only with a net device: not in this slice */
	LV_XML_NVARS
};

/* The name of placeholder v without braces ("image"). */
const char *lv_xml_var_name(enum lv_xml_var v);

/* The built-in template. */
extern const char lv_xml_builtin[];

/*
 * Expand tmpl with vars (nvars of them; a NULL value is a placeholder
 * that has no value here, an error if used) into a new string *out (free
 * it).  Returns 0, or -1 with a one-line reason in err: an unknown or
 * unterminated placeholder, or out of memory.
 */
int lv_xml_expand(const char *tmpl, const struct tmpl_var *vars, size_t nvars,
    char **out, char *err, size_t errlen);

/* Set up libxml2 once, from the main thread, before worker threads parse
 * (libxml2's rule for threaded programs). */
void lv_xml_init(void);

/* What the summoner needs to know of a defined domain. */
struct lv_xml_ports {
	char con[108];     /* serial port 0's unix socket (the console) */
	char hb[108];      /* serial port 1's (heartbeats) */
	char kernel[4096]; /* <os><kernel>: the image, for symbols */
};

/*
 * From a domain's live XML (xml, len bytes; untrusted text), the paths of
 * its serial ports 0 and 1 when they are unix sockets, and its kernel
 * ("" for each that is missing, of another type, or does not fit).
 * Returns 0, or -1 when the XML does not parse.
 */
int lv_xml_ports(const char *xml, size_t len, struct lv_xml_ports *out);

#endif /* SUMMONER_LIBVIRT_XML_H */
