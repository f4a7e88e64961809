/*
 * The access scanner's CPU budget.
 *
 * The scanner works in rounds: a slice of work (at most the budget:
 * period * share), then a sleep long enough that work / (work + sleep)
 * is the share, and never shorter than what is left of the period (so an
 * idle scanner wakes at most once per period). A round that overran its
 * budget (a batch is indivisible) sleeps proportionally longer, so the
 * share is kept over every round, not just on average.
 *
 * The share adapts between min and max (OSv's scanner: 0.1% and 20% of
 * one CPU) to what the scanning finds. Many pages found accessed (at least
 * 1/8 of those scanned) means the working set is moving and the caches
 * below want fresher information: the share doubles. Almost none (below
 * 1/64) means the mapped pages are idle and scanning them again soon
 * teaches nothing: it decays by a quarter per round, down to min. Nothing
 * mapped: min at once. In between the share holds.
 *
 * The measured share (work over the round's real length, from the clock)
 * is published now and as a moving average with weight 1/8 per round.
 */
#include "pc_impl.h"

#define PPM 1000000ULL

void pc_scan_ctl_init(struct pc_scan_ctl *c, uint32_t min_ppm, uint32_t max_ppm, uint64_t period_ns)
{
	if (min_ppm == 0)
		min_ppm = 1;
	if (max_ppm < min_ppm)
		max_ppm = min_ppm;
	if (max_ppm > PPM)
		max_ppm = PPM;
	*c = (struct pc_scan_ctl){
	    .min_ppm = min_ppm, .max_ppm = max_ppm, .ppm = min_ppm, .period_ns = period_ns};
}

uint64_t pc_scan_ctl_budget(const struct pc_scan_ctl *c)
{
	return c->period_ns * c->ppm / PPM;
}

uint64_t pc_scan_ctl_plan(struct pc_scan_ctl *c, uint64_t worked_ns, size_t scanned,
			  size_t accessed, size_t mapped)
{
	uint64_t ppm = c->ppm;
	if (mapped == 0)
		ppm = c->min_ppm;
	else if (scanned && accessed * 8 >= scanned)
		ppm *= 2;
	else if (accessed * 64 < scanned || !scanned)
		ppm -= ppm / 4;
	if (ppm < c->min_ppm)
		ppm = c->min_ppm;
	if (ppm > c->max_ppm)
		ppm = c->max_ppm;
	/* Sleep for this round's work at the share it was done under. */
	uint64_t sleep = worked_ns * (PPM - c->ppm) / c->ppm;
	if (worked_ns < c->period_ns && sleep < c->period_ns - worked_ns)
		sleep = c->period_ns - worked_ns;
	c->ppm = (uint32_t)ppm;
	return sleep;
}

void pc_scan_ctl_measure(struct pc_scan_ctl *c, uint64_t worked_ns, uint64_t elapsed_ns)
{
	if (elapsed_ns == 0)
		return;
	if (worked_ns > elapsed_ns)
		worked_ns = elapsed_ns;
	c->now_ppm = worked_ns * PPM / elapsed_ns;
	if (c->rounds++ == 0)
		c->avg_ppm = c->now_ppm;
	else
		c->avg_ppm = c->avg_ppm + c->now_ppm / 8 - c->avg_ppm / 8;
}
