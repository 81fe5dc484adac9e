// The engagement formula and the risk model, applied to each closed 5-minute window (pure).
//
// Engagement (0-100):
//   points      = 1·logins + 1·profileViews + 3·coursesStarted + 8·coursesCompleted
//                 + 5·paymentsCompleted + 1·profileUpdates − 2·supportTickets   (at least 0)
//   windowScore = min(100, 5 · points)
//   score       = windowScore for a member's first window, else round((windowScore + previous) / 2)
//   level       = high from 70, medium from 30, else low
// Halving keeps one busy window from making a member "highly engaged" for good, while a member
// keeps a high score only by staying active.
//
// Risk (0-100, capped): 25 per failed payment (at most 50), 20 per login from a new location (at
// most 40), 10 per support ticket (at most 20), 15 when engagement fell by 30 or more points.
//   level = high from 60, medium from 30, else low.

export interface WindowCounts {
  logins: number;
  profileViews: number;
  coursesStarted: number;
  coursesCompleted: number;
  supportTickets: number;
  paymentsCompleted: number;
  paymentsFailed: number;
  profileUpdates: number;
}

export type Level = 'low' | 'medium' | 'high';

export function emptyCounts(): WindowCounts {
  return {
    logins: 0,
    profileViews: 0,
    coursesStarted: 0,
    coursesCompleted: 0,
    supportTickets: 0,
    paymentsCompleted: 0,
    paymentsFailed: 0,
    profileUpdates: 0,
  };
}

export function totalOf(c: WindowCounts): number {
  return c.logins + c.profileViews + c.coursesStarted + c.coursesCompleted + c.supportTickets + c.paymentsCompleted + c.paymentsFailed + c.profileUpdates;
}

export function windowScore(c: WindowCounts): number {
  const points =
    c.logins + c.profileViews + 3 * c.coursesStarted + 8 * c.coursesCompleted + 5 * c.paymentsCompleted + c.profileUpdates - 2 * c.supportTickets;
  return Math.min(100, 5 * Math.max(0, points));
}

export function engagementScore(c: WindowCounts, previous: number | null): { score: number; windowScore: number; level: Level } {
  const ws = windowScore(c);
  const score = previous === null ? ws : Math.round((ws + previous) / 2);
  return { score, windowScore: ws, level: score >= 70 ? 'high' : score >= 30 ? 'medium' : 'low' };
}

export function riskAssessment(
  c: WindowCounts,
  newLocationLogins: number,
  engagement: { score: number; previous: number | null },
): { score: number; level: Level; factors: string[] } {
  const factors: string[] = [];
  let score = 0;
  if (c.paymentsFailed > 0) {
    score += Math.min(50, 25 * c.paymentsFailed);
    factors.push(`${c.paymentsFailed} failed payment${c.paymentsFailed > 1 ? 's' : ''}`);
  }
  if (newLocationLogins > 0) {
    score += Math.min(40, 20 * newLocationLogins);
    factors.push(`${newLocationLogins} login${newLocationLogins > 1 ? 's' : ''} from a new location`);
  }
  if (c.supportTickets > 0) {
    score += Math.min(20, 10 * c.supportTickets);
    factors.push(`${c.supportTickets} support ticket${c.supportTickets > 1 ? 's' : ''}`);
  }
  if (engagement.previous !== null && engagement.previous - engagement.score >= 30) {
    score += 15;
    factors.push(`engagement fell from ${engagement.previous} to ${engagement.score}`);
  }
  score = Math.min(100, score);
  return { score, level: score >= 60 ? 'high' : score >= 30 ? 'medium' : 'low', factors };
}
