// Loaded before every test file: type-graphql needs the metadata polyfill; logs stay quiet.
import 'reflect-metadata';
process.env.LOG_LEVEL ??= 'silent';
