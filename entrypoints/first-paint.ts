// A classic script the popup's page runs as soon as it is parsed up to it: the picture of the last
// open goes up before the popup's modules have loaded (see utils/first-paint-copy.ts).
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';
import { paintCopy } from '@/utils/first-paint-copy';

export default defineUnlistedScript(() => {
  const root = document.getElementById('app');
  if (root) paintCopy(root);
});
