/* SPDX-License-Identifier: MIT */
/* A compile error on purpose, for tests/integration/outoftree.sh: a name never declared. */
int main(void)
{
	return never_declared;
}
