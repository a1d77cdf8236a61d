// The toolbar badge: how many vehicles are connected, or "!" when one needs reconnecting.
import type { Vehicle } from '@/protocol/server-api';
import { browser } from 'wxt/browser';
import { t } from '@/utils/i18n';

const ATTENTION_COLOR = '#c5221f';
const CONNECTED_COLOR = '#0b63ce';

export async function showVehiclesOnBadge(vehicles: Vehicle[]): Promise<void> {
  const needsReconnect = vehicles.some((vehicle) => vehicle.status === 'reconnect_required');
  const text = needsReconnect ? '!' : vehicles.length > 0 ? String(vehicles.length) : '';
  const title = needsReconnect
    ? t('badgeAttention')
    : vehicles.length > 0
      ? t('badgeConnected', vehicles.length)
      : t('extName');
  await Promise.all([
    browser.action.setBadgeText({ text }),
    browser.action.setBadgeBackgroundColor({ color: needsReconnect ? ATTENTION_COLOR : CONNECTED_COLOR }),
    browser.action.setTitle({ title }),
  ]);
}
