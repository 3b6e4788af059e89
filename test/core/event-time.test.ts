import { describe, expect, it } from 'vitest';
import { eventTime, timeText } from '../../core/event.js';
import { hourOfDay, hourOfWeek, isWeekend } from '../../detectors/baseline.js';

// Spread over 1970..2099, every month and day, leap days and century boundaries included.
const times = [
  ...Array.from({ length: 5000 }, (_, i) => i * 817_199_111 + (i % 1000)),
  Date.UTC(2024, 1, 29, 23, 59, 59, 999),
  Date.UTC(2000, 2, 1),
  Date.UTC(1999, 11, 31, 23, 59, 59, 999),
  Date.UTC(2100, 2, 1),
  0,
];

describe('eventTime', () => {
  it('reads canonical event times exactly as Date.parse does', () => {
    for (const t of times) expect(eventTime(new Date(t).toISOString())).toBe(t);
  });

  it('hands other forms to Date.parse', () => {
    expect(eventTime('2026-11-02T10:00:00Z')).toBe(Date.parse('2026-11-02T10:00:00Z'));
    expect(eventTime('2026-11-02T10:00:00.000+01:00')).toBe(Date.parse('2026-11-02T09:00:00.000Z'));
    expect(eventTime('not a time')).toBeNaN();
  });
});

describe('timeText', () => {
  it('writes times exactly as Date.toISOString does, in any order of days', () => {
    // Forwards, backwards and within one day, so the remembered day is both reused and replaced.
    const within = Array.from({ length: 2000 }, (_, i) => Date.UTC(2026, 10, 29) + i * 43_201 + (i % 997));
    const all = [
      ...times,
      ...[...times].reverse(),
      ...within,
      -1,
      -86_400_001,
      Date.UTC(1, 0, 1),
      -62_167_219_200_000,
    ];
    for (const t of all) expect(timeText(t)).toBe(new Date(t).toISOString());
  });

  it('hands what it does not format to Date', () => {
    for (const t of [253_402_300_800_000, -62_167_219_200_001, 1.5])
      expect(timeText(t)).toBe(new Date(t).toISOString());
    expect(() => timeText(Number.NaN)).toThrow(RangeError);
  });
});

describe('calendar arithmetic of the baselines', () => {
  it('agrees with Date for hour of day, hour of week (Monday first) and weekends', () => {
    for (const t of times) {
      const d = new Date(t);
      expect(hourOfDay(t)).toBe(d.getUTCHours());
      expect(hourOfWeek(t)).toBe(((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours());
      expect(isWeekend(t)).toBe(d.getUTCDay() === 0 || d.getUTCDay() === 6);
    }
  });
});
