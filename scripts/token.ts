// `npm run token -- --sub m1 --role admin [--ttl 3600]`: mints a development token signed with
// JWT_SECRET (the development default unless set), printed alone on stdout.
import { parseArgs } from 'node:util';
import { mintClientToken, roles, type Role } from '../platform/auth';
import { config } from '../platform/config';

const { values } = parseArgs({
  options: { sub: { type: 'string' }, role: { type: 'string', default: 'member' }, ttl: { type: 'string', default: '3600' } },
});
const role = values.role as Role;
if (!values.sub || !roles.includes(role) || !/^\d+$/.test(values.ttl ?? '')) {
  console.error('usage: npm run token -- --sub <id> [--role member|admin] [--ttl seconds]');
  process.exit(2);
}
if (Number(values.ttl) > config().JWT_MAX_LIFETIME_SECONDS) {
  console.error(`--ttl ${values.ttl} is longer than JWT_MAX_LIFETIME_SECONDS (${config().JWT_MAX_LIFETIME_SECONDS}): the gateway would refuse the token.`);
  process.exit(2);
}
console.log(mintClientToken({ sub: values.sub, role }, config().JWT_SECRET, { expiresInSeconds: Number(values.ttl) }));
