/* SPDX-License-Identifier: MIT */
/* The PVH console: the first 16550 UART (COM1, I/O port 0x3f8), polled, no interrupts. */
#include <stdarg.h>
#include <stdio.h>

#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define COM1 0x3f8
/* 16550 registers, offsets from the base port (PC16550D datasheet, "Register Summary"). */
#define UART_THR 0 /* transmit holding (write), DLAB=0 */
#define UART_DLL 0 /* divisor latch low, DLAB=1 */
#define UART_IER 1 /* interrupt enable, DLAB=0 */
#define UART_DLM 1 /* divisor latch high, DLAB=1 */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07 /* FIFOs on, both cleared */
#define MCR_DTR_RTS 0x03
#define LSR_THRE 0x20         /* the transmit holding register can take a byte */

void pvh_serial_init(void)
{
	outb(COM1 + UART_IER, 0); /* polled: no interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1); /* 115200 baud: divisor 1 of the 1.8432 MHz / 16 clock */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

/*
 * Bytes go out as they are: QEMU's stdio backend keeps the host terminal's
 * output processing, so "\n" needs no "\r" in front.
 */
void pvh_serial_write(const char *buf, size_t len)
{
	if (pvh_on_xen) { /* Xen owns the UART: its console takes the bytes */
		xen_console_write(buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		while (!(inb(COM1 + UART_LSR) & LSR_THRE))
			;
		outb(COM1 + UART_THR, (uint8_t)buf[i]);
	}
}

/* Integers and strings only: newlib formats those without allocating, even mid-fault. */
void pvh_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pvh_serial_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
