/*
 * libvirt_xml.c: domain XML templates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "libvirt_xml.h"

static const char *const var_names[LV_XML_NVARS] = {"name", "memory", "image",
    "args", "console", "heartbeat", "service", "id", "mac"};

const char *
lv_xml_var_name(enum lv_xml_var v)
{
	return (unsigned)v < LV_XML_NVARS ? var_names[v] : "?";
}

/*
 * What docs/libvirt.md found to work on microvm: no PCI bus, so no USB
 * controller and no balloon; the default CPU model (host-passthrough
 * fails on nested KVM here); the ISA pvpanic.  on_crash preserve: a
 * panicked guest stays, paused (CRASHED(PANICKED)), for its core and a
 * debugger; the policy's decision destroys it.
 * isa-debug-exit has no libvirt element: it goes through the QEMU
 * namespace's command-line passthrough.
 */
const char lv_xml_builtin[] =
    "<domain type='kvm' "
    "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
    "  <name>{name}</name>\n"
    "  <memory unit='MiB'>{memory}</memory>\n"
    "  <vcpu>1</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='microvm'>hvm</type>\n"
    "    <kernel>{image}</kernel>\n"
    "    <cmdline>{args}</cmdline>\n"
    "  </os>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>destroy</on_reboot>\n"
    "  <on_crash>preserve</on_crash>\n"
    "  <devices>\n"
    "    <serial type='unix'>\n"
    "      <source mode='bind' path='{console}'/>\n"
    "      <target port='0'/>\n"
    "    </serial>\n"
    "    <serial type='unix'>\n"
    "      <source mode='bind' path='{heartbeat}'/>\n"
    "      <target port='1'/>\n"
    "    </serial>\n"
    "    <panic model='isa'/>\n"
    "    <controller type='usb' model='none'/>\n"
    "    <memballoon model='none'/>\n"
    "  </devices>\n"
    "  <qemu:commandline>\n"
    "    <qemu:arg value='-device'/>\n"
    "    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=4'/>\n"
    "  </qemu:commandline>\n"
    "</domain>\n";

static void
put_escaped(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '&':
			fputs("&amp;", fp);
			break;
		case '\'':
			fputs("&apos;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			fputc(*s, fp);
		}
	}
}

int
lv_xml_expand(const char *tmpl, const struct tmpl_var *vars, size_t nvars,
    char **out, char *err, size_t errlen)
{
	const char *p = tmpl, *end;
	char *buf = NULL;
	size_t len = 0, i, n;
	FILE *fp;

	*out = NULL;
	if ((fp = open_memstream(&buf, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (*p != '\0') {
		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			fputc(p[0], fp);
			p += 2;
			continue;
		}
		if (*p != '{') {
			fputc(*p++, fp);
			continue;
		}
		if ((end = strchr(p, '}')) == NULL) {
			snprintf(err, errlen, "unterminated placeholder");
			goto fail;
		}
		n = (size_t)(end - p - 1);
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == n &&
			    memcmp(vars[i].name, p + 1, n) == 0)
				break;
		if (i == nvars) {
			snprintf(err, errlen, "unknown placeholder {%.*s}",
			    (int)(n < 32 ? n : 32), p + 1);
			goto fail;
		}
		if (vars[i].value == NULL) {
			snprintf(err, errlen,
			    "{%s} has no value for this service", vars[i].name);
			goto fail;
		}
		put_escaped(fp, vars[i].value);
		p = end + 1;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = buf;
	return 0;
fail:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	return -1;
}

void
lv_xml_init(void)
{
	xmlInitParser();
}

/* The string value of expr in ctx into out ("" when none or too long). */
static void
xpath_string(xmlXPathContextPtr ctx, const char *expr, char *out, size_t size)
{
	xmlXPathObjectPtr o;

	out[0] = '\0';
	o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (o != NULL && o->type == XPATH_STRING && o->stringval != NULL &&
	    strlen((const char *)o->stringval) < size)
		strcpy(out, (const char *)o->stringval);
	xmlXPathFreeObject(o);
}

int
lv_xml_ports(const char *xml, size_t len, struct lv_xml_ports *out)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;

	out->con[0] = out->hb[0] = out->kernel[0] = '\0';
	if (len > 16 * 1024 * 1024)
		return -1;
	/* No network, no DTD, no entity expansion: the text is the
	 * hypervisor's, but a parser reading it must not reach out. */
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return -1;
	if ((ctx = xmlXPathNewContext(doc)) == NULL) {
		xmlFreeDoc(doc);
		return -1;
	}
	xpath_string(ctx,
	    "string(/domain/devices/serial[@type='unix']"
	    "[target/@port='0']/source/@path)",
	    out->con, sizeof(out->con));
	xpath_string(ctx,
	    "string(/domain/devices/serial[@type='unix']"
	    "[target/@port='1']/source/@path)",
	    out->hb, sizeof(out->hb));
	xpath_string(
	    ctx, "string(/domain/os/kernel)", out->kernel, sizeof(out->kernel));
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return 0;
}
