import { useEffect, useState } from 'preact/hooks';

/** The current time, renewed every `intervalMs` so "2 min ago" keeps counting while the popup is open. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, intervalMs);
    return () => {
      clearInterval(timer);
    };
  }, [intervalMs]);
  return now;
}
