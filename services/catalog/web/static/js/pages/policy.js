// Cancellation fees as the API's tiers describe them: cancelling fewer than `days_before` days before the start
// costs `fee_percent` of the price (the nearest such tier); free within a day of moving up from the waiting list.
// Booking's own rule (services/booking/domain.py cancellation_terms), which a browser test checks this against.
import { t } from '../i18n.js';

const DAY_MS = 24 * 60 * 60 * 1000;
// The academy's standard policy, for offers that do not say theirs.
export const STANDARD_TIERS = [{ days_before: 14, fee_percent: 50 }, { days_before: 3, fee_percent: 100 }];

export function feePercent(tiers, startsAt, now = new Date()) {
  const ahead = new Date(startsAt) - now;
  const reached = tiers.filter((tier) => ahead < tier.days_before * DAY_MS)
    .sort((a, b) => a.days_before - b.days_before);
  return reached.length ? reached[0].fee_percent : 0;
}

export function expectedFee(booking, tiers, now = new Date()) {
  const paid = booking.price_cents || 0;
  if (booking.status !== 'confirmed' || paid <= 0) return 0;
  if (booking.promoted_at && now - new Date(booking.promoted_at) < DAY_MS) return 0;
  // Whole cents, half a cent up, in integers as booking counts them.
  return Math.floor((paid * feePercent(tiers, booking.starts_at, now) + 50) / 100);
}

export function policyText(tiers) {
  if (!tiers.length) return t('policy.free');
  const parts = [...tiers].sort((a, b) => b.days_before - a.days_before)
    .map((tier) => t('policy.tier', { percent: tier.fee_percent, days: tier.days_before }));
  return `${t('policy.lead')} ${parts.join('; ')}.`;
}
