import { teardownAdapterTests } from '@modelstore/test-servers';

export default () => teardownAdapterTests('transformers');
