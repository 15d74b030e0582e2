// A provider callback's form posted from a page in another charset: the bytes a browser sends from a
// WINDOWS-1257 bank page read as the names they are, a UTF-8 post read as UTF-8 all the same.
import express from 'express';
import request from 'supertest';
import { keepFormBytes, postedForm } from '../../src/web/form-charset.ts';

const app = express();
app.post(
  '/callback/:charset',
  express.urlencoded({ extended: false, verify: keepFormBytes }),
  (req, res) => void res.json(postedForm(req, req.params.charset === 'none' ? undefined : req.params.charset)),
);

const post = (charset: string, body: string) =>
  request(app).post(`/callback/${charset}`).set('content-type', 'application/x-www-form-urlencoded').send(body);

test('WINDOWS-1257 bytes (a bank page in that charset): the Latvian letters as they were signed', async () => {
  // "BĒRZIŅŠ,JĀNIS" in windows-1257, as Chromium submits it from such a page
  const res = await post('windows-1257', 'VK_USER_NAME=B%C7RZI%D2%D0%2CJ%C2NIS&VK_OTHER=a+b');
  expect(res.body).toEqual({ VK_USER_NAME: 'BĒRZIŅŠ,JĀNIS', VK_OTHER: 'a b' });
});

test('a post that is valid UTF-8 is read as UTF-8 even where the provider declares another charset', async () => {
  const res = await post('windows-1257', 'VK_USER_NAME=B%C4%92RZI%C5%85%C5%A0%2CJ%C4%80NIS');
  expect(res.body).toEqual({ VK_USER_NAME: 'BĒRZIŅŠ,JĀNIS' });
});

test('ISO-8859-1 (windows-1252 to browsers): an Estonian name', async () => {
  const res = await post('iso-8859-1', 'VK_USER_NAME=T%D5%D5GER%2CLE%D5P%C4%D6LD');
  expect(res.body).toEqual({ VK_USER_NAME: 'TÕÕGER,LEÕPÄÖLD' });
});

test('without a declared charset the body parser reading stands (undecodable escapes stay as they are)', async () => {
  const res = await post('none', 'VK_USER_NAME=B%C7RZI');
  expect(res.body).toEqual({ VK_USER_NAME: 'B%C7RZI' });
});
