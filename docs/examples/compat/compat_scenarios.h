/* SPDX-License-Identifier: MIT */
/* compat_scenarios.c: register the scenarios compat-dmirror and compat-kvm. */
#ifndef COMPAT_SCENARIOS_H
#define COMPAT_SCENARIOS_H

/* 0 or a negative errno (mmn_scenario_register()). */
int compat_scenarios_register(void);

#endif
