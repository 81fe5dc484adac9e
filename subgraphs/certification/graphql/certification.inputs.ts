// Inputs of the certification mutations.
import { Field, ID, InputType } from 'type-graphql';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../../common/idempotency';

@InputType()
export class CertificationDocumentInput {
  @Field({ description: 'What the document is, e.g. "University transcript".' })
  name!: string;

  @Field({ description: 'Where it can be read (http or https).' })
  url!: string;
}

@InputType()
export class ApplyForCertificationInput {
  @Field(() => ID, { nullable: true, description: 'The applicant: yourself by default; admins may apply for any member.' })
  memberId?: string | null;

  @Field({ description: 'A certification type code (see `certificationTypes`).' })
  certType!: string;

  @Field(() => [CertificationDocumentInput])
  documents!: CertificationDocumentInput[];

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}
