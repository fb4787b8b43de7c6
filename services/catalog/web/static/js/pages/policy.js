// Cancellation fees as the API's tiers describe them: cancelling fewer than `days_before` days before the start
// costs `fee_percent` of the price (the highest such tier); free within a day of moving up from the waiting list.
import { t } from '../i18n.js';

const DAY_MS = 24 * 60 * 60 * 1000;
// The academy's standard policy, for offers that do not say theirs.
export const STANDARD_TIERS = [{ days_before: 14, fee_percent: 50 }, { days_before: 3, fee_percent: 100 }];

export function feePercent(tiers, startsAt, now = new Date()) {
  const ahead = new Date(startsAt) - now;
  return Math.max(0, ...tiers.filter((tier) => ahead < tier.days_before * DAY_MS).map((tier) => tier.fee_percent));
}

export function expectedFee(booking, tiers, now = new Date()) {
  if (booking.status !== 'confirmed') return 0;
  if (booking.promoted_at && now - new Date(booking.promoted_at) < DAY_MS) return 0;
  return Math.round(((booking.price_cents || 0) * feePercent(tiers, booking.starts_at, now)) / 100);
}

export function policyText(tiers) {
  if (!tiers.length) return t('policy.free');
  const parts = [...tiers].sort((a, b) => b.days_before - a.days_before)
    .map((tier) => t('policy.tier', { percent: tier.fee_percent, days: tier.days_before }));
  return `${t('policy.lead')} ${parts.join('; ')}.`;
}
