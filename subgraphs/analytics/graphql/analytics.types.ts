// The analytics API's types: tracked activity, window summaries, engagement, risk, detected
// patterns and actions, the CEP rules, the processor's status, and the Member fields they hang on.
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionOf } from '../../common/connection';
import { ActivityType, CepRuleKind, PatternActionType, PatternKind, ScoreLevel } from './analytics.enums';

/** The member as the analytics subgraph knows it: its key; its analytics fields are resolved here. */
@Directive('@key(fields: "id")')
@ObjectType('Member')
export class AnalyticsMember {
  @Field(() => ID)
  id!: string;
}

@InputType({ description: 'One activity of a member. Which optional fields are needed depends on `type`.' })
export class ActivityInput {
  @Field(() => ID, { description: 'Whose activity it is: yourself, or any member for admins.' })
  memberId!: string;

  @Field(() => ActivityType, { description: 'MEMBER_LOGIN, MEMBER_PROFILE_VIEWED, COURSE_STARTED, COURSE_COMPLETED or SUPPORT_TICKET_OPENED.' })
  type!: ActivityType;

  @Field(() => String, { nullable: true, description: 'When it happened: an RFC 3339 date-time with a timezone (2025-01-15T10:00:00Z), from 2000 on and at most 5 minutes ahead of the server. Default: now.' })
  occurredAt?: string | null;

  @Field(() => String, { nullable: true, description: 'Your id for the activity, so a retried call stores nothing new.' })
  activityId?: string | null;

  @Field(() => String, { nullable: true, description: 'member.login: city or country the member signed in from.' })
  location?: string | null;

  @Field(() => String, { nullable: true, description: 'member.login: IP address.' })
  ip?: string | null;

  @Field(() => String, { nullable: true, description: 'member.login: device.' })
  device?: string | null;

  @Field(() => ID, { nullable: true, description: 'member.profile.viewed (required): the profile viewed.' })
  profileId?: string | null;

  @Field(() => ID, { nullable: true, description: 'course.started / course.completed (required).' })
  courseId?: string | null;

  @Field(() => ID, { nullable: true, description: 'support.ticket.opened (required).' })
  ticketId?: string | null;

  @Field(() => String, { nullable: true, description: 'support.ticket.opened: subject.' })
  subject?: string | null;
}

@ObjectType({ description: 'An activity event as stored.' })
export class TrackedActivity {
  @Field(() => ID, { description: 'Unique id: the id of the activity event.' })
  get id(): string {
    return this.eventId;
  }

  @Field(() => ID, { description: 'The id of the activity event.' })
  eventId!: string;

  @Field(() => ActivityType, { description: 'What the member did.' })
  type!: ActivityType;

  @Field(() => ID, { description: 'Whose activity it is.' })
  memberId!: string;

  @Field(() => Date, { description: 'When it happened (event time).' })
  occurredAt!: Date;
}

@ObjectType({ description: "A member's activity in one closed 5-minute window." })
export class ActivitySummary {
  @Field(() => ID, { description: 'Unique id of the member\'s window.' })
  id!: string;

  @Field(() => Date, { description: 'Start of the 5-minute window (inclusive).' })
  windowStart!: Date;

  @Field(() => Date, { description: 'End of the window (exclusive).' })
  windowEnd!: Date;

  @Field(() => Int, { description: 'Sign-ins in the window.' })
  logins!: number;

  @Field(() => Int, { description: 'Profiles the member viewed.' })
  profileViews!: number;

  @Field(() => Int, { description: 'Courses the member started.' })
  coursesStarted!: number;

  @Field(() => Int, { description: 'Courses the member completed.' })
  coursesCompleted!: number;

  @Field(() => Int, { description: 'Support tickets the member opened.' })
  supportTickets!: number;

  @Field(() => Int, { description: "The member's payments that completed." })
  paymentsCompleted!: number;

  @Field(() => Int, { description: "The member's payments that failed." })
  paymentsFailed!: number;

  @Field(() => Int, { description: "Changes to the member's profile." })
  profileUpdates!: number;

  @Field(() => Int, { description: 'All events of the window.' })
  total!: number;

  @Field(() => Int, { description: 'Amount of the completed payments, in cents.' })
  paidCents!: number;
}

@ObjectType({
  description:
    'Engagement after the latest closed window (0-100): windowScore = min(100, 5 x points) with points = logins + profile views + 3 x courses started + 8 x courses completed + 5 x payments + profile updates - 2 x support tickets; score = average of windowScore and the previous score. HIGH from 70, MEDIUM from 30.',
})
export class EngagementScore {
  @Field(() => Int, { description: 'Engagement now, 0-100: the average of windowScore and the previous score.' })
  score!: number;

  @Field(() => Int, { description: 'Engagement in the latest closed window alone, 0-100.' })
  windowScore!: number;

  @Field(() => Int, { nullable: true, description: 'The score before this window; null for the first.' })
  previousScore!: number | null;

  @Field(() => ScoreLevel, { description: 'HIGH from 70, MEDIUM from 30, else LOW.' })
  level!: ScoreLevel;

  @Field(() => Date, { description: 'End of the window the score was computed after.' })
  windowEnd!: Date;
}

@ObjectType({
  description:
    'Risk after the latest closed window (0-100): 25 per failed payment (max 50), 20 per login from a new location (max 40), 10 per support ticket (max 20), 15 when engagement fell by 30+. HIGH from 60, MEDIUM from 30.',
})
export class RiskAssessment {
  @Field(() => Int, { description: 'Risk now, 0-100.' })
  score!: number;

  @Field(() => ScoreLevel, { description: 'HIGH from 60, MEDIUM from 30, else LOW.' })
  level!: ScoreLevel;

  @Field(() => [String], { description: 'What raised the score, in words (e.g. "2 failed payments").' })
  factors!: string[];

  @Field(() => Date, { description: 'End of the window the risk was assessed after.' })
  windowEnd!: Date;
}

@ObjectType({ description: 'A CEP rule that matched a member, and the action it took.' })
export class DetectedPattern {
  @Field(() => ID, { description: 'Unique id of this detection.' })
  id!: string;

  @Field(() => ID, { description: 'The member it was detected for.' })
  memberId!: string;

  @Field(() => ID, { description: 'The CEP rule that matched (see `cepRules`).' })
  ruleId!: string;

  @Field(() => PatternKind, { description: 'What was detected.' })
  pattern!: PatternKind;

  @Field(() => Date, { description: 'When the rule matched (event time).' })
  detectedAt!: Date;

  @Field(() => [ID], { description: 'Ids of the events that made the match.' })
  evidence!: string[];

  @Field(() => PatternActionType, { description: 'The action the rule took.' })
  action!: PatternActionType;
}

@ObjectType({ description: 'An action a pattern triggered.' })
export class PatternAction {
  @Field(() => ID, { description: 'Unique id of the action (its event id).' })
  id!: string;

  @Field(() => ID, { description: 'The member it was taken for.' })
  memberId!: string;

  @Field(() => ID, { description: 'The detected pattern that took it.' })
  patternId!: string;

  @Field(() => PatternActionType, { description: 'What the action was.' })
  type!: PatternActionType;

  @Field(() => Date, { description: 'When the action was taken.' })
  at!: Date;

  @Field(() => GraphQLJSON, { description: 'The action event payload (campaign, offer, severity and reason, or points and balance).' })
  detail!: Record<string, unknown>;
}

@ObjectType({ description: 'A CEP rule, as data.' })
export class CepRuleInfo {
  @Field(() => ID, { description: 'Unique id of the rule.' })
  id!: string;

  @Field(() => PatternKind, { description: 'What the rule detects.' })
  pattern!: PatternKind;

  @Field({ description: 'What the rule looks for, in words.' })
  description!: string;

  @Field(() => CepRuleKind, { description: 'How it matches: SEQUENCE, ALL or ABSENCE.' })
  kind!: CepRuleKind;

  @Field(() => GraphQLJSON, { description: 'The declarative pattern (steps or trigger/absent, with conditions and counts).' })
  spec!: unknown;

  @Field(() => Float, { description: 'How long the whole pattern may take, in milliseconds.' })
  withinMs!: number;

  @Field(() => Float, { description: 'After a match, how long the rule ignores the member, in milliseconds.' })
  cooldownMs!: number;

  @Field(() => GraphQLJSON, { description: 'What the rule does on a match: its action event type and settings.' })
  action!: unknown;
}

@ObjectType({ description: 'Where the stream processor is.' })
export class AnalyticsStatus {
  @Field(() => Float, { description: 'Store position of the last input processed.' })
  position!: number;

  @Field(() => Date, { nullable: true, description: 'Event time up to which windows are closed.' })
  watermark!: Date | null;

  @Field(() => Float, { description: 'How late (event time behind the newest event) an activity may arrive and still count in its window.' })
  allowedLatenessMs!: number;

  @Field(() => Int, { description: 'Windows still open (their end has not passed the watermark).' })
  openWindows!: number;

  @Field(() => Int, { description: 'Members the processor keeps state for.' })
  members!: number;

  @Field(() => Int, { description: 'Events that came after their window closed (kept aside, see lateActivity).' })
  lateEvents!: number;

  @Field(() => Float, { description: 'Inputs processed since the processor first started.' })
  processed!: number;
}

@ObjectType({ description: 'An activity event that arrived after its window closed: kept aside, not aggregated.' })
export class LateActivity {
  @Field(() => ID, { description: 'Unique id: the id of the late activity event.' })
  get id(): string {
    return this.eventId;
  }

  @Field(() => ID, { description: 'The id of the late activity event.' })
  eventId!: string;

  @Field(() => ID, { description: 'Whose activity it was.' })
  memberId!: string;

  @Field(() => ActivityType, { description: 'What the member did.' })
  type!: ActivityType;

  @Field(() => Date, { description: 'When it happened (event time).' })
  occurredAt!: Date;

  @Field(() => Date, { description: 'Start of the window it belonged to, closed before it arrived.' })
  windowStart!: Date;

  @Field(() => Date, { description: 'The watermark when it arrived.' })
  watermark!: Date;
}

@ObjectType({ description: "A page of a member's closed activity windows, newest first." })
export class ActivitySummaryConnection extends ConnectionOf(ActivitySummary, 'ActivitySummary', 'activity summary') {}

@ObjectType({ description: 'A page of detected patterns, newest first.' })
export class DetectedPatternConnection extends ConnectionOf(DetectedPattern, 'DetectedPattern', 'detected pattern') {}

@ObjectType({ description: 'A page of actions the patterns took, newest first.' })
export class PatternActionConnection extends ConnectionOf(PatternAction, 'PatternAction', 'pattern action') {}

@ObjectType({ description: 'A page of late activity, the latest to arrive first.' })
export class LateActivityConnection extends ConnectionOf(LateActivity, 'LateActivity', 'late activity') {}
