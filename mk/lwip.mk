# SPDX-License-Identifier: MIT
# lwIP 2.1.3, fetched by make deps, compiled by the kit with libos/net/lwipopts.h into its own
# archive. Images link it after libos.a: only appliances that use sockets pull it in.

LWIP_SRCDIR := $(BUILD)/src/lwip/src
# Listed, not globbed: the sources exist only once make deps has run.
LWIP_FILES := api/api_lib.c api/api_msg.c api/err.c api/if_api.c api/netbuf.c api/netdb.c \
	api/netifapi.c api/sockets.c api/tcpip.c core/def.c core/dns.c core/inet_chksum.c \
	core/init.c core/ip.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c netif/ethernet.c
LWIP_OBJS := $(patsubst %.c,$(BUILD)/guest/lwip/%.o,$(LWIP_FILES))
LWIP_A := $(BUILD)/liblwip.a

$(LWIP_SRCDIR)/%.c: $(DEPS_STAMP)
	@test -f $@ || { echo "lwIP source $@ missing: run make deps"; exit 1; }

$(BUILD)/guest/lwip/%.o: $(LWIP_SRCDIR)/%.c $(DEPS_STAMP) libos/net/lwipopts.h
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(LWIP_CFLAGS) -c $< -o $@

$(LWIP_A): $(LWIP_OBJS)
	@rm -f $@
	$(GUEST_AR) rcs $@ $^
