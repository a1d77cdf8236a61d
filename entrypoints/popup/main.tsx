import { render } from 'preact';

render(<p>Car Connect</p>, document.body);
